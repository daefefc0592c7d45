"""The worker loop: claim ready work in batches from the database, run it, checkpoint it,
and keep draining until nothing is ready. Celery worker processes and the embedded
in-process threads both run this same code."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable

from django.conf import settings

from entities.worker import process_entities
from functions.worker.triggers import process_triggers
from orchestrations.store.wakeups import ACTIVITIES, ENTITIES, ORCHESTRATIONS, QUEUES, TRIGGERS
from orchestrations.worker.activities import process_activities
from orchestrations.worker.episodes import process_orchestrations

_PROCESSORS: dict[str, Callable[[str, int], int]] = {
    ORCHESTRATIONS: process_orchestrations,
    ACTIVITIES: process_activities,
    ENTITIES: process_entities,
    TRIGGERS: process_triggers,
}


def worker_id() -> str:
    """Who holds a lease: this host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def process_batch(queue: str, limit: int | None = None) -> int:
    """Claim and run up to ``limit`` ready items of ``queue``; return how many there were."""
    return _PROCESSORS[queue](worker_id(), limit or settings.PERDURA_BATCH_SIZE)


def drain(queue: str, on_full_batch: Callable[[], None] | None = None) -> int:
    """Run batches until none is ready. ``on_full_batch`` is called when a batch came back
    full, a sign that more work is waiting and a peer could help."""
    limit = settings.PERDURA_BATCH_SIZE
    total = 0
    while count := process_batch(queue, limit):
        total += count
        if count >= limit and on_full_batch is not None:
            on_full_batch()
    return total


def drain_all() -> int:
    """Run everything ready, on every queue, until nothing is ready (used by tests and the CLI)."""
    total = 0
    while progress := sum(drain(queue) for queue in QUEUES):
        total += progress
    return total
