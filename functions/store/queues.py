"""Durable queues are rows (``QueuedMessage``): putting a message is an INSERT in the caller's
transaction, and the workers are woken once it commits.

A worker claims a batch of visible messages in one statement: it makes them invisible for the
visibility timeout, counts a dequeue and stamps them with a fresh pop receipt. Everything it
does to a message afterwards (delete it, give it back, move it to the poison queue) names
that receipt, so a worker whose claim ran out cannot touch a message another worker now holds.
Every statement against the queue table is here, in both flavours (PostgreSQL's SKIP LOCKED,
SQLite's one writer at a time).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from functions.models import QueuedMessage
from orchestrations.store import notices
from orchestrations.store.bulk import (
    Statement,
    claim_rows,
    db_time,
    has_returning,
    in_keys,
    key_params,
    keys_count,
    run_statements,
    update_statement,
)
from orchestrations.store.wakeups import TRIGGERS, notify_on_commit

#: Azure's suffix for the queue a message moves to after too many failed deliveries.
POISON_SUFFIX = "-poison"
#: Expired messages deleted per claim at most: the rest go with the next claims.
EXPIRED_PER_CLAIM = 500


def poison_queue_name(queue: str) -> str:
    """``<queue>-poison``; a queue name is at most 63 characters, so a long name is cut first."""
    return f"{queue[: 63 - len(POISON_SUFFIX)]}{POISON_SUFFIX}"


def is_poison_queue(queue: str) -> bool:
    return queue.endswith(POISON_SUFFIX)


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
        notices.publish_on_commit(notices.QUEUE, [queue])
    return rows


# Claiming and finishing.


@dataclass(frozen=True)
class Claim:
    """Messages one worker holds until ``visible_at``, under one pop receipt."""

    pop_receipt: str
    messages: list[QueuedMessage]


def new_pop_receipt(worker_id: str) -> str:
    """Fresh for every claim; it also says which worker holds the messages (the console shows it)."""
    field = QueuedMessage._meta.get_field("pop_receipt")
    return f"{uuid.uuid4().hex}@{worker_id}"[: field.max_length]


def claim_messages(queues: Sequence[str], limit: int, worker_id: str, *, now: datetime | None = None) -> Claim:
    """Claim up to ``limit`` visible, unexpired messages of ``queues``, those visible longest
    first, skipping messages other workers are claiming this instant. Expired messages (of any
    queue) are deleted on the way, never delivered."""
    now = now or timezone.now()
    pop_receipt = new_pop_receipt(worker_id)
    if not queues or limit < 1:
        return Claim(pop_receipt, [])
    _delete_expired(now)
    invisible_until = now + timedelta(seconds=settings.PERDURA_QUEUE_VISIBILITY_SECONDS)
    messages = claim_rows(
        QueuedMessage,
        ready=f"queue {in_keys(keys_count(queues))} AND visible_at <= %s AND expires_at > %s",
        ready_params=[*key_params(queues), db_time(now), db_time(now)],
        order_by="visible_at, id",
        limit=limit,
        assignments="visible_at = %s, dequeue_count = dequeue_count + 1, pop_receipt = %s",
        assignment_params=[db_time(invisible_until), pop_receipt],
    )
    return Claim(pop_receipt, sorted(messages, key=lambda message: (message.inserted_at, message.pk)))


def _delete_expired(now: datetime) -> None:
    table = connection.ops.quote_name(QueuedMessage._meta.db_table)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    chosen = f"SELECT id FROM {table} WHERE expires_at <= %s LIMIT %s{skip_locked}"
    sql = f"DELETE FROM {table} WHERE id IN ({chosen})"
    if has_returning():
        [rows] = run_statements(
            [Statement(f"{sql} RETURNING queue", [db_time(now), EXPIRED_PER_CLAIM], returns_rows=True)]
        )
        notices.publish_on_commit(notices.QUEUE, sorted({queue for (queue,) in rows}))
    else:
        run_statements([Statement(sql, [db_time(now), EXPIRED_PER_CLAIM])])


def delete_claimed(pop_receipt: str, message_ids: Sequence[int]) -> set[int]:
    """Delete these messages if this claim still holds them; the ids of those it deleted."""
    if not message_ids:
        return set()
    table = connection.ops.quote_name(QueuedMessage._meta.db_table)
    where = f"id {in_keys(keys_count(message_ids))} AND pop_receipt = %s"
    params = [*key_params(message_ids), pop_receipt]
    if has_returning():
        [rows] = run_statements([Statement(f"DELETE FROM {table} WHERE {where} RETURNING id", params, True)])
        return {message_id for (message_id,) in rows}
    held = set(QueuedMessage.objects.filter(pk__in=message_ids, pop_receipt=pop_receipt).values_list("pk", flat=True))
    QueuedMessage.objects.filter(pk__in=held).delete()
    return held


def give_back(pop_receipt: str, messages: Sequence[QueuedMessage], *, now: datetime) -> None:
    """Make these messages visible again at once, with their ``last_error`` as set, if this
    claim still holds them (Azure's default for a message whose function failed)."""
    for message in messages:
        message.visible_at = now
    statement = update_statement(
        QueuedMessage, messages, ["visible_at", "last_error"], where="pop_receipt = %s", where_params=[pop_receipt]
    )
    run_statements([statement])


def move_to_poison(pop_receipt: str, messages: Sequence[QueuedMessage], *, now: datetime) -> list[QueuedMessage]:
    """Move these messages (``last_error`` set) to their poison queues, if this claim still
    holds them: the old row goes first, then a new one with the same id and body arrives on
    ``<queue>-poison``, counted from zero as a new message is. Returns the new rows."""
    moved = delete_claimed(pop_receipt, [message.pk for message in messages])
    expires_at = now + timedelta(seconds=settings.PERDURA_QUEUE_MESSAGE_TTL_SECONDS)
    rows = [
        QueuedMessage(
            message_id=message.message_id,
            queue=poison_queue_name(message.queue),
            body=message.body,
            inserted_at=now,
            expires_at=expires_at,
            visible_at=now,
            last_error=message.last_error,
        )
        for message in messages
        if message.pk in moved
    ]
    if rows:
        QueuedMessage.objects.bulk_create(rows)
        notify_on_commit(TRIGGERS)
    return rows


# Readings.


def ready_exists(queues: Sequence[str], now: datetime) -> bool:
    """Whether any of ``queues`` has a visible message, or any queue an expired one to delete."""
    visible = Q(queue__in=queues, visible_at__lte=now, expires_at__gt=now) if queues else Q(pk__in=[])
    return QueuedMessage.objects.filter(visible | Q(expires_at__lte=now)).exists()


def peek(queue: str, count: int, *, now: datetime | None = None) -> list[QueuedMessage]:
    """The first ``count`` unexpired messages of ``queue``, in delivery order, without claiming
    them (those a worker holds now are among them, with their ``visible_at`` ahead)."""
    now = now or timezone.now()
    return list(QueuedMessage.objects.filter(queue=queue, expires_at__gt=now).order_by("visible_at", "pk")[:count])


@dataclass(frozen=True)
class QueueFigures:
    """One queue's unexpired messages: how many, how many visible now, the oldest's insertion."""

    queue: str
    depth: int
    visible: int
    oldest_inserted_at: datetime | None


def queue_figures(now: datetime | None = None, queues: Sequence[str] | None = None) -> dict[str, QueueFigures]:
    """The figures of every queue that holds messages (of ``queues`` only, if given)."""
    now = now or timezone.now()
    rows = QueuedMessage.objects.filter(expires_at__gt=now)
    if queues is not None:
        rows = rows.filter(queue__in=queues)
    grouped = (
        rows.values("queue")
        .annotate(depth=Count("pk"), visible=Count("pk", filter=Q(visible_at__lte=now)), oldest=Min("inserted_at"))
        .order_by("queue")
    )
    return {row["queue"]: QueueFigures(row["queue"], row["depth"], row["visible"], row["oldest"]) for row in grouped}


def holds_messages(queue: str) -> bool:
    return QueuedMessage.objects.filter(queue=queue).exists()


# Commands on whole queues.


def requeue(from_queue: str, to_queue: str, *, now: datetime | None = None) -> int:
    """Move every message of ``from_queue`` to ``to_queue``, visible now and counted from zero."""
    now = now or timezone.now()
    moved = QueuedMessage.objects.filter(queue=from_queue).update(
        queue=to_queue, visible_at=now, dequeue_count=0, pop_receipt=""
    )
    if moved:
        notify_on_commit(TRIGGERS)
        notices.publish_on_commit(notices.QUEUE, [from_queue, to_queue])
    return moved


def purge(queue: str) -> int:
    """Delete every message of ``queue``; how many there were."""
    deleted, _ = QueuedMessage.objects.filter(queue=queue).delete()
    if deleted:
        notices.publish_on_commit(notices.QUEUE, [queue])
    return deleted
