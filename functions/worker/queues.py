"""The queue consumer (being built: see the triggers issue)."""

from __future__ import annotations

from datetime import datetime


def process_messages(worker_id: str, limit: int) -> int:
    return 0


def messages_ready(now: datetime) -> bool:
    return False
