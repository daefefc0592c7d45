"""Counting orchestration episodes and entity batches per function and minute.

An episode or a batch is not an invocation row: writing one per episode would add a row to
the engine's hottest transaction. Each worker process counts them in memory instead (a lock
and a dictionary update per episode), and its sweeper adds the counts to ``FunctionTally``
every pass. A process that dies loses at most one sweep interval of counts, which are
figures for the console, never state.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from django.utils import timezone

from functions.store.tally import add_counts

EPISODE, ENTITY_BATCH = "orchestrator", "entity"

_lock = threading.Lock()
_pending: Counter[tuple[str, str, datetime]] = Counter()


def count(kind: str, function_name: str, now: datetime | None = None) -> None:
    """One more episode (kind ``orchestrator``) or entity batch (kind ``entity``) this minute."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    with _lock:
        _pending[(function_name, kind, minute)] += 1


def flush() -> int:
    """Add what was counted since the last flush to the database; how many were added. On a
    database error the counts are kept for the next flush."""
    global _pending
    with _lock:
        taken, _pending = _pending, Counter()
    if not taken:
        return 0
    try:
        add_counts(taken)
    except Exception:
        with _lock:
            _pending.update(taken)
        raise
    return sum(taken.values())
