"""Instance rows: starting a new instance (its row and first message), and the writes that
replace or delete one with everything stored for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from functions.models import Invocation
from functions.registry import FunctionKind
from orchestrations.engine import OrchestrationStatus
from orchestrations.engine import events as ev
from orchestrations.engine.status import TERMINAL_STATUSES
from orchestrations.models import Approval, HistoryRow, Instance, Message, SetAsideMessage, WorkItem
from orchestrations.store import metrics, notices, tracing
from orchestrations.store.bulk import insert_rows
from orchestrations.store.inbox import lock_instances
from orchestrations.store.wakeups import ORCHESTRATIONS, notify_on_commit


class InstanceRunningError(Exception):
    """An instance with that id exists and has not finished."""


def lock_for_start(instance_id: str) -> str | None:
    """Lock the row an instance would start in (inside the caller's transaction) and return the
    status of the finished instance it would replace, or None if the id is free. Raises
    InstanceRunningError if an instance that has not finished has the id."""
    existing = lock_instances([instance_id])
    status = existing[instance_id].runtime_status if instance_id in existing else None
    if status is not None and status not in TERMINAL_STATUSES:
        raise InstanceRunningError(f"an instance with id {instance_id!r} already exists and is not finished")
    return status


def schedule_new_instance(
    instance_id: str, name: str, payload: str | None, *, version: str = "", replacing: bool
) -> None:
    """Write a new Pending instance and the ExecutionStarted message that starts it, in the
    caller's transaction, which has locked the id with ``lock_for_start`` (``replacing`` the
    finished instance it found there). When tracing, the start is a span (under the request's,
    if any) and the instance's episodes are its children."""
    attributes = {tracing.INSTANCE_ID: instance_id, tracing.FUNCTION: name}
    with tracing.span(f"start_orchestration {name}", attributes=attributes, enter=False):
        row = new_instance_row(instance_id, name, payload, version=version)
    started = ev.execution_started(row.created_at, name, payload, version=version or None)
    # A new row, locked (or new) in this transaction: its first message needs none of
    # deliver()'s checks, and its wake-up is written with it.
    row.next_message_at = started.timestamp
    replace_instance(row, replacing=replacing)
    insert_rows(Message, [Message.for_event(instance_id, started)])
    notify_on_commit(ORCHESTRATIONS)
    notices.publish_on_commit(notices.INSTANCE, [instance_id])
    metrics.inc_on_commit(metrics.ORCHESTRATIONS_STARTED, metrics.function_label(FunctionKind.ORCHESTRATOR, name))


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
        trace_parent=tracing.current_parent(),
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
    for model in (HistoryRow, Message, SetAsideMessage, WorkItem, Approval):
        model.objects.filter(instance_id__in=instance_ids).delete()
    Instance.objects.filter(pk__in=instance_ids).delete()


@dataclass(slots=True)
class ActivityRun:
    """A work item leased to a worker, and the record of that worker's run of it."""

    item: WorkItem
    execution: Invocation
    #: The concurrency slot the run holds, for an activity with ``max_concurrency`` (see
    #: functions/store/concurrency.py); None for the others.
    slot: int | None = None


def execution_of(item: WorkItem, worker_id: str, started_at: datetime) -> Invocation:
    """The record of this worker's run of a work item (its attempt is the item's delivery count)."""
    return Invocation(
        function_name=item.name,
        instance_id=item.instance_id,
        task_id=item.task_id,
        work_item_id=item.pk,
        attempt=item.deliveries,
        worker=worker_id,
        started_at=started_at,
        input=item.input,
    )
