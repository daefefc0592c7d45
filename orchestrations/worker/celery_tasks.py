"""Celery tasks: a wake-up makes a worker drain one queue."""

from __future__ import annotations

from celery import shared_task
from celery.signals import setup_logging, task_postrun, task_prerun, worker_process_shutdown
from django.db import close_old_connections

from orchestrations.store import metrics, tracing
from orchestrations.store.wakeups import CeleryDispatcher, get_dispatcher
from orchestrations.worker.loop import drain


@shared_task(name="perdura.drain", ignore_result=True)
def drain_queue(queue: str) -> int:
    dispatcher = get_dispatcher()
    if isinstance(dispatcher, CeleryDispatcher):
        # From here on, new work needs a new wake-up: this worker may already be past it.
        dispatcher.clear(queue)
    return drain(queue, on_full_batch=lambda: dispatcher.notify(queue))


@task_prerun.connect
@task_postrun.connect
def _drop_old_connections(**kwargs: object) -> None:
    """Keep the database connection from one wake-up to the next (CELERY_DB_REUSE_MAX), as a
    web request does: closed only if it broke or is older than PERDURA_DB_CONN_MAX_AGE."""
    close_old_connections()


@worker_process_shutdown.connect
def _flush_before_exit(**kwargs: object) -> None:
    """A prefork child leaves with ``os._exit``, which skips ``atexit``: its last counts and
    spans are written here (a child recycled or shrunk away, not one killed outright)."""
    metrics.flush_before_exit()
    tracing.flush()


@setup_logging.connect
def _keep_djangos_logging(**kwargs: object) -> None:
    """Leave logging as Django's LOGGING set it up (PERDURA_LOG_LEVEL for the root logger,
    ``--loglevel`` for Celery's own lines). Celery would set the root logger to its
    ``--loglevel``, WARNING by default, and the info lines that functions log would be
    dropped before their invocation could keep them."""
