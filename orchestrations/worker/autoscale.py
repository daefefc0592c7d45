"""Growing a worker's pool with the work waiting for it (``manage.py worker --activity-autoscale``).

Celery's own autoscaler sizes the pool by the tasks the worker has reserved. Perdura's tasks
are wake-ups, coalesced so that a burst of work costs one message, and the work itself waits
in the database: Celery would see one task and keep one process. This autoscaler counts what
``/metrics`` publishes as the backlog instead (items ready, plus those being run) for the
queue its worker serves, and keeps the pool between ``--autoscale``'s MIN and MAX to match;
a worker that finds a full batch already sends a wake-up to recruit the new processes.
"""

from __future__ import annotations

import os
import time

from celery.worker.autoscale import Autoscaler
from django.db import connections
from django.utils import timezone

from orchestrations.store.backlog import waiting_for

#: The environment variable naming the Perdura queue of the worker being scaled.
QUEUE_VARIABLE = "PERDURA_AUTOSCALE_QUEUE"
#: The backlog is read at most this often.
READ_SECONDS = 1.0


class BacklogAutoscaler(Autoscaler):
    _read_at = 0.0
    _waiting = 0

    @property
    def qty(self) -> int:
        if time.monotonic() - self._read_at >= READ_SECONDS:
            try:
                self._waiting = waiting_for(os.environ.get(QUEUE_VARIABLE, "activities"), timezone.now())
            finally:
                # The pool grows by forking from this thread: no connection may be open in it then.
                connections.close_all()
            self._read_at = time.monotonic()
        return self._waiting
