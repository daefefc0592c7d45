"""Each queue's backlog, read from the tables: what ``/metrics`` serves as gauges and what the
console's metrics page samples once a minute. The engine's queues (orchestrations,
activities, entities) and the trigger queues that registered functions read (others are added
up under ``other``, so that names people put on queues cannot grow the label set)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q

from entities.models import Entity
from functions.models import QueuedMessage
from functions.registry import FunctionKind, registry
from functions.store.queues import is_poison_queue
from orchestrations.models import Instance, WorkItem

OTHER = "other"


@dataclass
class Backlog:
    queue: str
    #: "engine" or "trigger".
    kind: str
    #: Ready to run and not held by a worker.
    ready: int = 0
    #: When the oldest ready item became ready.
    oldest_ready_at: datetime | None = None
    #: Held by a worker now (for trigger queues: dequeued, and not back yet).
    in_progress: int = 0
    #: Due later: timers, retries, visibility timeouts.
    scheduled: int = 0

    def oldest_age(self, now: datetime) -> float:
        """Seconds the oldest ready item has waited; 0 when none is ready."""
        return max(0.0, (now - self.oldest_ready_at).total_seconds()) if self.oldest_ready_at else 0.0


def backlogs(now: datetime) -> list[Backlog]:
    return [*_engine(now), *_triggers(now)]


ENGINE_QUEUES = (
    ("orchestrations", Instance, "next_message_at"),
    ("activities", WorkItem, "visible_at"),
    ("entities", Entity, "next_message_at"),
)


def _engine(now: datetime, only: str | None = None) -> Iterable[Backlog]:
    leased = Q(lease_expires_at__gt=now)
    for queue, model, field in ENGINE_QUEUES:
        if only is not None and queue != only:
            continue
        ready = Q(**{f"{field}__lte": now}) & ~leased
        # Rows with nothing waiting (finished instances, idle entities: nearly all of them) are
        # left out through the index on the column workers claim on, not counted past.
        rows = model.objects.order_by().filter(**{f"{field}__isnull": False})
        figures = rows.aggregate(
            ready=Count("pk", filter=ready),
            oldest=Min(field, filter=ready),
            taken=Count("pk", filter=leased),
            later=Count("pk", filter=Q(**{f"{field}__gt": now})),
        )
        yield Backlog(queue, "engine", figures["ready"], figures["oldest"], figures["taken"], figures["later"])


def _triggers(now: datetime) -> list[Backlog]:
    read = {function.trigger.queue_name for function in registry.functions(FunctionKind.QUEUE)}
    by_name = {name: Backlog(name, "trigger") for name in sorted(read)}
    grouped = (
        QueuedMessage.objects.filter(expires_at__gt=now)
        .order_by()
        .values("queue")
        .annotate(
            ready=Count("pk", filter=Q(visible_at__lte=now)),
            oldest=Min("inserted_at", filter=Q(visible_at__lte=now)),
            # A claimed message is invisible until its visibility timeout: taken, with a count.
            taken=Count("pk", filter=Q(visible_at__gt=now, dequeue_count__gt=0)),
            later=Count("pk", filter=Q(visible_at__gt=now, dequeue_count=0)),
        )
    )
    for row in grouped:
        queue = row["queue"]
        known = queue in read or (is_poison_queue(queue) and queue.removesuffix("-poison") in read)
        backlog = by_name.setdefault(queue if known else OTHER, Backlog(queue if known else OTHER, "trigger"))
        backlog.ready += row["ready"]
        if row["oldest"] is not None and (backlog.oldest_ready_at is None or row["oldest"] < backlog.oldest_ready_at):
            backlog.oldest_ready_at = row["oldest"]
        backlog.in_progress += row["taken"]
        backlog.scheduled += row["later"]
    return sorted(by_name.values(), key=lambda backlog: backlog.queue)


def waiting_for(queue: str, now: datetime) -> tuple[int, int]:
    """(ready, held by workers) for the Celery queue ``queue`` serves: what its pool could be
    busy with. The trigger workers serve every trigger queue."""
    figures = _triggers(now) if queue == "triggers" else list(_engine(now, only=queue))
    return sum(backlog.ready for backlog in figures), sum(backlog.in_progress for backlog in figures)
