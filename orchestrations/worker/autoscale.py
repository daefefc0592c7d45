"""Growing a worker's pool with the work waiting for it (``manage.py worker --activity-autoscale``).

Celery's own autoscaler sizes the pool by the tasks the worker has reserved. Perdura's tasks
are wake-ups, coalesced so that a burst of work costs one message, and the work itself waits
in the database: Celery would see one task and keep one process. This autoscaler counts what
``/metrics`` publishes as the backlog instead for the queue its worker serves (the whole
deployment's), turned into processes: one per batch of ready items and one per batch being
run, kept between ``--autoscale``'s MIN and MAX. A worker that finds a full batch already
sends a wake-up to recruit the new processes. Several machines scaling on the same backlog
each grow for all of it: cap MAX per machine, or scale machines instead (KEDA, README).
"""

from __future__ import annotations

import logging
import math
import os
import time

from celery.worker.autoscale import Autoscaler
from django.conf import settings
from django.db import connections
from django.utils import timezone

from orchestrations.store.backlog import waiting_for

logger = logging.getLogger(__name__)

#: The environment variable naming the Perdura queue of the worker being scaled.
QUEUE_VARIABLE = "PERDURA_AUTOSCALE_QUEUE"
#: The backlog is read at most this often.
READ_SECONDS = 1.0


class BacklogAutoscaler(Autoscaler):
    _read_at = 0.0
    _wanted = 0

    @property
    def qty(self) -> int:
        """The processes the backlog could keep busy: one per batch of ready items (a process
        claims a batch and runs it alone), plus one per batch being run now. Read at most once
        a second; if the database cannot be read, the last answer stands."""
        if time.monotonic() - self._read_at >= READ_SECONDS:
            self._read_at = time.monotonic()
            try:
                ready, running = waiting_for(os.environ.get(QUEUE_VARIABLE, "activities"), timezone.now())
                batch = max(1, settings.PERDURA_BATCH_SIZE)
                self._wanted = math.ceil(ready / batch) + math.ceil(running / batch)
            except Exception:
                logger.warning("could not read the backlog; the pool keeps its size", exc_info=True)
            finally:
                # The pool grows by forking from this thread: no connection may be open in it then.
                connections.close_all()
        return self._wanted
