"""The timer scheduler (being built: see the triggers issue)."""

from __future__ import annotations

from datetime import datetime


def fire_due_timers(worker_id: str, limit: int) -> int:
    return 0


def timers_due(now: datetime) -> bool:
    return False
