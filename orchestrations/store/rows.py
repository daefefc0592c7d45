"""Instance rows: a new instance's row, and the writes that replace or delete one with
everything stored for it."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.utils import timezone

from orchestrations.engine import OrchestrationStatus
from orchestrations.models import Approval, HistoryEvent, Instance, Message, SetAsideMessage, WorkItem
from orchestrations.store.bulk import insert_rows


def new_instance_row(
    instance_id: str,
    name: str,
    input: str | None,
    *,
    version: str = "",
    parent_instance_id: str | None = None,
    parent_task_id: int | None = None,
    now: datetime | None = None,
) -> Instance:
    """A new instance's row, Pending, with an execution id of its own."""
    now = now or timezone.now()
    return Instance(
        instance_id=instance_id,
        name=name,
        version=version,
        execution_id=uuid.uuid4().hex,
        runtime_status=OrchestrationStatus.PENDING,
        input=input,
        parent_instance_id=parent_instance_id,
        parent_task_id=parent_task_id,
        created_at=now,
        updated_at=now,
    )


def replace_instance(instance: Instance, *, replacing: bool) -> None:
    """Write a new instance row; with ``replacing``, first clear out the finished instance that
    has its id (the caller has locked that row and checked it is finished)."""
    if not replacing:
        insert_rows(Instance, [instance])
        return
    delete_instances([instance.pk])
    instance.save(force_insert=True)


def delete_instances(instance_ids: list[str]) -> None:
    """Delete these instances and everything stored for them: history, inbox, set-aside
    messages, activity work and approvals."""
    for model in (HistoryEvent, Message, SetAsideMessage, WorkItem, Approval):
        model.objects.filter(instance_id__in=instance_ids).delete()
    Instance.objects.filter(pk__in=instance_ids).delete()
