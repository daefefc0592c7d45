"""Small helpers shared by the storage, services and worker tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from orchestrations import services
from orchestrations.models import HistoryRow, Instance, Message
from orchestrations.store.wakeups import ACTIVITIES, ORCHESTRATIONS
from orchestrations.worker.loop import drain, drain_all


def run_to_end(name: str, input: Any = None, **kwargs: Any) -> Instance:
    """Start an instance and run everything ready; return the instance as it then is."""
    instance_id = services.start(name, input, **kwargs)
    drain_all()
    return services.get(instance_id)


def run_orchestrations() -> int:
    """Run orchestration episodes only, leaving activity work items waiting."""
    return drain(ORCHESTRATIONS)


def run_activities() -> int:
    """Run activity work items only, leaving their results in the inboxes."""
    return drain(ACTIVITIES)


def event_types(instance_id: str) -> list[str]:
    return list(
        HistoryRow.objects.filter(instance_id=instance_id).order_by("sequence").values_list("event_type", flat=True)
    )


def make_inbox_due(instance_id: str) -> None:
    """Move every message of the inbox (a timer's, say) into the past, as if its time had come."""
    past = timezone.now() - timedelta(seconds=1)
    Message.objects.filter(instance_id=instance_id).update(visible_at=past)
    Instance.objects.filter(pk=instance_id).update(next_message_at=past)
