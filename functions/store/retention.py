"""Retention of the invocation record: rows older than PERDURA_INVOCATION_RETENTION_DAYS go,
pruned by the sweeper a bounded batch at a time.

Each batch is one short statement in its own transaction: the oldest ``batch_size`` ids are
read through the ``started_at`` index and deleted by primary key, so no statement scans the
table or holds its locks for long, and a backlog (retention shortened, a worker down for a
week) drains over a few sweeps instead of in one long delete.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from functions.models import Invocation
from functions.store.tally import prune_tallies

#: Rows deleted per statement.
BATCH_SIZE = 1000
#: Statements per call: at most BATCH_SIZE * MAX_BATCHES rows go per sweep.
MAX_BATCHES = 5


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Invocations started before this moment are past retention."""
    return (now or timezone.now()) - timedelta(days=settings.PERDURA_INVOCATION_RETENTION_DAYS)


def prune_invocations(
    now: datetime | None = None, *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> int:
    """Delete invocations past retention, oldest first, in at most ``max_batches`` statements of
    ``batch_size`` rows; return how many went."""
    cutoff = retention_cutoff(now)
    prune_tallies(cutoff)
    return delete_oldest(Invocation, "started_at", cutoff, batch_size=batch_size, max_batches=max_batches)


def delete_oldest(model: type[Model], field: str, cutoff: datetime, *, batch_size: int, max_batches: int) -> int:
    """Delete the rows of ``model`` whose ``field`` is before ``cutoff``, oldest first through
    that field's index, in at most ``max_batches`` statements of ``batch_size`` rows, each its
    own short transaction; return how many went. For tables nothing refers to, so that each is
    one DELETE ... WHERE id IN (...)."""
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            model.objects.filter(**{f"{field}__lt": cutoff}).order_by(field).values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        count, _ = model.objects.filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch_size:
            break
    return deleted
