"""The lease renewer: one thread per worker process that extends the leases of long runs
(work items an activity worker is running, concurrency slots a run holds) every third of the
lease time, so that a live worker is never mistaken for a dead one."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Protocol

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


class Renewable(Protocol):
    """Something holding leases: ``renew`` extends them all (one or two statements)."""

    def renew(self) -> None: ...


class LeaseRenewer(threading.Thread):
    """Renews the leases of the keepers it holds when each is a third of the lease time old,
    and every third of the lease time after that."""

    _instance: LeaseRenewer | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        super().__init__(name="perdura-lease-renewer", daemon=True)
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.due: dict[Renewable, float] = {}
        self.wake = threading.Event()
        self.next_wake = 0.0

    @classmethod
    def get(cls) -> LeaseRenewer:
        renewer = cls._instance
        if renewer is None or renewer.pid != os.getpid():  # None yet, or inherited through a fork.
            with cls._instance_lock:
                if cls._instance is None or cls._instance.pid != os.getpid():
                    cls._instance = cls()
                    cls._instance.start()
                renewer = cls._instance
        return renewer

    def hold(self, keeper: Renewable) -> None:
        due = time.monotonic() + settings.PERDURA_LEASE_SECONDS / 3
        with self.lock:
            self.due[keeper] = due
            sooner = due < self.next_wake
        if sooner:
            self.wake.set()

    def release(self, keeper: Renewable) -> None:
        with self.lock:
            self.due.pop(keeper, None)

    def run(self) -> None:
        while True:
            interval = settings.PERDURA_LEASE_SECONDS / 3
            now = time.monotonic()
            with self.lock:
                due = [keeper for keeper, at in self.due.items() if at <= now]
                for keeper in due:
                    self.due[keeper] = now + interval
                self.next_wake = min(self.due.values(), default=now + interval)
                self.wake.clear()
            if due:
                try:
                    for keeper in due:
                        self._renew(keeper)
                finally:
                    connection.close()  # Renewals are rare: hold no connection between them.
            self.wake.wait(max(0.0, self.next_wake - time.monotonic()))

    @staticmethod
    def _renew(keeper: Renewable) -> None:
        started = time.monotonic()
        try:
            keeper.renew()
        except Exception:
            logger.warning("could not renew the leases of %r; retrying", keeper, exc_info=True)
            return
        logger.debug("renewed the leases of %r in %.3fs", keeper, time.monotonic() - started)
