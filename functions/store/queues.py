"""Durable queues are rows (``QueuedMessage``): putting a message is an INSERT in the caller's
transaction, and the workers are woken once it commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from functions.models import QueuedMessage
from orchestrations.store.wakeups import TRIGGERS, notify_on_commit


def put_messages(
    queue: str, bodies: Iterable[str], *, now: datetime | None = None, visible_in: timedelta | None = None
) -> list[QueuedMessage]:
    """Put one message per body (already checked text) on ``queue``; return the rows."""
    now = now or timezone.now()
    expires_at = now + timedelta(seconds=settings.PERDURA_QUEUE_MESSAGE_TTL_SECONDS)
    visible_at = now + (visible_in or timedelta(0))
    rows = [
        QueuedMessage(queue=queue, body=body, inserted_at=now, expires_at=expires_at, visible_at=visible_at)
        for body in bodies
    ]
    if rows:
        QueuedMessage.objects.bulk_create(rows)
        notify_on_commit(TRIGGERS)
    return rows
