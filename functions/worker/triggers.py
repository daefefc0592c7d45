"""The ``triggers`` queue of the worker loop: due timer occurrences and visible queue messages."""

from __future__ import annotations

from datetime import datetime

from functions.worker.queues import messages_ready, process_messages
from functions.worker.timers import fire_due_timers, timers_due


def process_triggers(worker_id: str, limit: int) -> int:
    """Fire due timers, then run a batch of queue messages; how many ran."""
    return fire_due_timers(worker_id, limit) + process_messages(worker_id, limit)


def triggers_ready(now: datetime) -> bool:
    return timers_due(now) or messages_ready(now)
