"""Delivering messages to instances' inboxes, the one way work reaches an orchestration.

Every transaction that writes to more than one instance row locks them first, in instance-id
order, so two transactions never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q
from django.utils import timezone

from .dispatch import ORCHESTRATIONS, notify_on_commit
from .engine import OrchestrationStatus
from .models import Instance, Message

TERMINAL = [status.value for status in OrchestrationStatus if status.is_terminal]


def lock_instances(instance_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Lock these instance rows (in id order) and return their (runtime_status, execution_id)."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    rows = (
        Instance.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "runtime_status", "execution_id")
    )
    return {pk: (status, execution_id) for pk, status, execution_id in rows}


def deliver(messages: Sequence[Message]) -> int:
    """Add messages to their instances' inboxes inside the caller's transaction, dropping those
    for an instance that does not exist, has finished, or has moved on to another execution.
    Returns how many were delivered."""
    if not messages:
        return 0
    targets = lock_instances(message.instance_id for message in messages)
    deliverable = [message for message in messages if _is_deliverable(message, targets.get(message.instance_id))]
    Message.objects.bulk_create(deliverable)
    earliest: dict[str, object] = {}
    for message in deliverable:
        current = earliest.get(message.instance_id)
        earliest[message.instance_id] = message.visible_at if current is None else min(current, message.visible_at)
    for instance_id, visible_at in sorted(earliest.items()):
        Instance.objects.filter(pk=instance_id).filter(
            Q(next_message_at__isnull=True) | Q(next_message_at__gt=visible_at)
        ).update(next_message_at=visible_at)
    if any(message.visible_at <= timezone.now() for message in deliverable):
        notify_on_commit(ORCHESTRATIONS)
    return len(deliverable)


def _is_deliverable(message: Message, target: tuple[str, str] | None) -> bool:
    if target is None:
        return False
    runtime_status, execution_id = target
    if runtime_status in TERMINAL:
        return False
    return not message.execution_id or message.execution_id == execution_id
