"""The sweeper: finds work nobody was woken for and wakes a worker for it.

Due timers, work whose lease expired with a dead worker and work whose wake-up was lost all
look the same from here: ready rows in the database. The sweeper also records the worker
process's heartbeat and prunes invocations past retention.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from entities.models import Entity
from functions.store.retention import prune_invocations
from functions.worker import tally
from functions.worker.timers import TimerAlarm
from functions.worker.triggers import triggers_ready
from orchestrations.models import Approval, Instance, WorkerHeartbeat, WorkItem
from orchestrations.store import metric_samples, retention
from orchestrations.store.approvals import settle
from orchestrations.store.leases import lease_free
from orchestrations.store.wakeups import ACTIVITIES, ENTITIES, ORCHESTRATIONS, TRIGGERS, notify

logger = logging.getLogger(__name__)


def ready_queues() -> list[str]:
    now = timezone.now()
    free = lease_free(now)
    ready = []
    if Instance.objects.filter(free, next_message_at__lte=now).exists():
        ready.append(ORCHESTRATIONS)
    if WorkItem.objects.filter(free, visible_at__lte=now).exists():
        ready.append(ACTIVITIES)
    if Entity.objects.filter(free, next_message_at__lte=now).exists():
        ready.append(ENTITIES)
    if triggers_ready(now):
        ready.append(TRIGGERS)
    return ready


def expire_due_approvals(now: datetime | None = None) -> int:
    """Expire pending approvals past their deadline; each orchestration gets a timed-out rejection."""
    now = now or timezone.now()
    expired = 0
    due = Approval.objects.filter(status=Approval.Status.PENDING, deadline__lte=now).values_list("pk", "instance_id")
    for approval_id, instance_id in due:
        with transaction.atomic():
            settled = settle(approval_id, instance_id, status=Approval.Status.EXPIRED, by=None, comment="", now=now)
        expired += settled is not None
    return expired


def sweep() -> list[str]:
    expire_due_approvals()
    # Bounded: a few short deletes per sweep at most (functions/store/retention.py).
    prune_invocations()
    # This process's counts of episodes and entity batches (functions/worker/tally.py).
    tally.flush()
    queues = ready_queues()
    for queue in queues:
        notify(queue)
    # Housekeeping last, each on its own: a failure or a slow pass here must not hold up the
    # wake-ups above, nor end the sweeper.
    for chore in (retention.prune_when_due, metric_samples.sample_when_due):
        try:
            chore()
        except Exception:
            logger.warning("%s failed; the next sweep tries again", chore.__module__, exc_info=True)
            connection.close()
    return queues


def beat(worker_key: str, mode: str, queues: dict[str, int]) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_key,
        defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "mode": mode,
            "queues": queues,
            "last_seen": timezone.now(),
        },
    )


class Sweeper(threading.Thread):
    """Sweeps every ``interval`` seconds and beats every ``heartbeat_interval``."""

    def __init__(self, interval: float, heartbeat_interval: float, mode: str, queues: dict[str, int]) -> None:
        super().__init__(name="perdura-sweeper", daemon=True)
        self.interval = interval
        self.heartbeat_interval = heartbeat_interval
        self.mode = mode
        self.queues = queues
        self.worker_key = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        # Polling finds due timers up to an interval late; the alarm wakes workers on time.
        self.timer_alarm = TimerAlarm(longest_sleep=interval)

    def run(self) -> None:
        last_beat = 0.0
        self.timer_alarm.start()
        try:
            while not self.stopping.is_set():
                try:
                    now = timezone.now().timestamp()
                    if now - last_beat >= self.heartbeat_interval:
                        beat(self.worker_key, self.mode, self.queues)
                        last_beat = now
                    sweep()
                except DatabaseError:
                    logger.warning("sweep failed; trying again", exc_info=True)
                    connection.close()
                self.stopping.wait(self.interval)
        finally:
            self.timer_alarm.stop()
            WorkerHeartbeat.objects.filter(worker_id=self.worker_key).delete()
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
