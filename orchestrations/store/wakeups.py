"""Wake-ups: telling workers that new work is ready in the database.

The database holds every piece of work; a wake-up only says "look now". In-process workers
wait on a threading event; Celery workers receive a ``perdura.drain`` task, sent only when no
wake-up for that queue is already pending, so a burst of work costs one message, not one per
item. A worker that finds a full batch sends another wake-up to recruit a peer.
"""

from __future__ import annotations

import logging
import threading
from functools import cache

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

ORCHESTRATIONS = "orchestrations"
ACTIVITIES = "activities"
ENTITIES = "entities"
#: Functions run by events: due timer occurrences and visible queue messages.
TRIGGERS = "triggers"
QUEUES = (ORCHESTRATIONS, ACTIVITIES, ENTITIES, TRIGGERS)


def celery_queue_name(queue: str) -> str:
    return f"perdura.{queue}"


class InProcessDispatcher:
    def __init__(self) -> None:
        self.events = {queue: threading.Event() for queue in QUEUES}

    def notify(self, queue: str) -> None:
        self.events[queue].set()

    def notify_now(self, queue: str) -> None:
        self.notify(queue)


class CeleryDispatcher:
    #: A pending wake-up flag outlives a lost wake-up by this long; the sweeper then resends.
    FLAG_SECONDS = 5

    def __init__(self, redis_url: str) -> None:
        self.redis = redis.Redis.from_url(redis_url)

    def notify(self, queue: str) -> None:
        try:
            if self.redis.set(self.flag_key(queue), 1, nx=True, ex=self.FLAG_SECONDS):
                # The project's Celery app, current wherever Django is set up (consoleapp/__init__.py).
                current_app.send_task("perdura.drain", args=[queue], queue=celery_queue_name(queue))
        except Exception:
            # The work is safe in the database; the sweeper will wake a worker for it.
            logger.warning("could not send a wake-up for %s; the sweeper will", queue, exc_info=True)

    def notify_now(self, queue: str) -> None:
        """Send a wake-up even if one is pending: a pending one may sit with a worker that was
        killed before running it, and its flag holds every other wake-up back until it expires."""
        try:
            current_app.send_task("perdura.drain", args=[queue], queue=celery_queue_name(queue))
        except Exception:
            logger.warning("could not send a wake-up for %s; the sweeper will", queue, exc_info=True)

    def clear(self, queue: str) -> None:
        self.redis.delete(self.flag_key(queue))

    @staticmethod
    def flag_key(queue: str) -> str:
        return f"perdura:wake:{queue}"


@cache
def get_dispatcher() -> InProcessDispatcher | CeleryDispatcher:
    if settings.PERDURA_WORKERS == "celery":
        return CeleryDispatcher(settings.REDIS_URL)
    return InProcessDispatcher()


def notify(queue: str) -> None:
    get_dispatcher().notify(queue)


def notify_now(queue: str) -> None:
    """A wake-up that must not wait behind a pending one: timer occurrences falling due."""
    get_dispatcher().notify_now(queue)


def notify_on_commit(*queues: str) -> None:
    """Wake workers for ``queues`` once the current transaction commits (at once outside one)."""
    for queue in queues:
        transaction.on_commit(lambda queue=queue: notify(queue))
