"""Celery tasks: a wake-up makes a worker drain one queue."""

from __future__ import annotations

from celery import shared_task

from .dispatch import CeleryDispatcher, get_dispatcher
from .worker import drain


@shared_task(name="perdura.drain", ignore_result=True)
def drain_queue(queue: str) -> int:
    dispatcher = get_dispatcher()
    if isinstance(dispatcher, CeleryDispatcher):
        # From here on, new work needs a new wake-up: this worker may already be past it.
        dispatcher.clear(queue)
    return drain(queue, on_full_batch=lambda: dispatcher.notify(queue))
