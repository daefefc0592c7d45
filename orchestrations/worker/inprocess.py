"""The embedded mode's workers: threads inside the web process running the same loop as the
Celery workers, woken by in-process events and, for timers and other processes' writes, by
polling."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from functions.worker.timers import start_timers
from orchestrations.store.wakeups import (
    ACTIVITIES,
    ENTITIES,
    ORCHESTRATIONS,
    TRIGGERS,
    InProcessDispatcher,
    get_dispatcher,
)
from orchestrations.worker.loop import drain
from orchestrations.worker.sweeper import Sweeper

logger = logging.getLogger(__name__)


class InProcessWorkers:
    def __init__(
        self,
        orchestration_threads: int | None = None,
        activity_threads: int | None = None,
        entity_threads: int | None = None,
        trigger_threads: int | None = None,
    ) -> None:
        dispatcher = get_dispatcher()
        if not isinstance(dispatcher, InProcessDispatcher):
            raise RuntimeError("in-process workers need PERDURA_WORKERS=inprocess")
        self.events = dispatcher.events
        self.poll_seconds = settings.PERDURA_POLL_SECONDS
        self.threads_per_queue = {
            ORCHESTRATIONS: orchestration_threads or settings.PERDURA_INPROCESS_ORCHESTRATION_THREADS,
            ACTIVITIES: activity_threads or settings.PERDURA_INPROCESS_ACTIVITY_THREADS,
            ENTITIES: entity_threads or settings.PERDURA_INPROCESS_ENTITY_THREADS,
            TRIGGERS: trigger_threads or settings.PERDURA_INPROCESS_TRIGGER_THREADS,
        }
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.sweeper = Sweeper(
            interval=settings.PERDURA_POLL_SECONDS,
            heartbeat_interval=settings.PERDURA_WORKER_HEARTBEAT_SECONDS,
            mode="inprocess",
            queues=self.threads_per_queue,
        )

    def start(self) -> None:
        start_timers()
        for queue, count in self.threads_per_queue.items():
            for number in range(count):
                thread = threading.Thread(
                    target=self._loop, args=(queue,), name=f"perdura-{queue}-{number}", daemon=True
                )
                thread.start()
                self.threads.append(thread)
        self.sweeper.start()
        logger.info("in-process workers started: %s", self.threads_per_queue)

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.sweeper.stop()
        for event in self.events.values():
            event.set()
        for thread in self.threads:
            thread.join(timeout)

    def _loop(self, queue: str) -> None:
        event = self.events[queue]
        try:
            while not self.stopping.is_set():
                event.clear()
                close_old_connections()
                try:
                    drained = drain(queue, on_full_batch=event.set)
                except Exception:
                    logger.exception("the %s worker loop failed; it goes on", queue)
                    connection.close()
                    drained = 0
                if not drained:
                    # Polling catches due timers and work written by other processes.
                    event.wait(self.poll_seconds)
        finally:
            connection.close()
