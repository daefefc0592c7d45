"""Q1 queue messages: N messages on a queue whose function does nothing, run by the worker
processes already running; messages/s. Then, in the same run, N plain Celery no-op tasks on
the same broker (bench/celery_peer.py), run by as many Celery processes with as many pool
slots as Perdura's queue consumers have; tasks/s, for the ratio.

Each clock starts before the first message (task) is sent and stops when the runner sees the
last one done (it looks every POLL_SECONDS, so each figure errs on the slow side by at most
that). Messages are put in batches of PUT_BATCH, one transaction each, as an output binding
or a bulk producer would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path
from time import perf_counter

from bench import celery_peer
from bench.measure import Figure, TimedOut, chunks, wait_until
from functions.models import Invocation, QueuedMessage
from functions.store.queues import put_messages

WORKLOAD = "Q1"
QUEUE = "bench-noop"
FUNCTION = "bench_queue_noop"
PUT_BATCH = 1000
TARGET_MESSAGES_PER_SECOND = 3000.0
#: Perdura should run queue messages at least this many times as fast as plain Celery tasks.
TARGET_RATIO_TO_CELERY = 5.0
#: ``manage.py worker``'s default --trigger-concurrency: the Celery peer gets as many slots.
TRIGGER_CONCURRENCY = 2


def run(messages: int, *, timeout: float, worker_processes: int | None, pool: str = "prefork") -> list[Figure]:
    """``worker_processes`` None: the in-process workers (no broker, so no Celery comparison)."""
    title = f"Queue messages x{messages:,}"
    details: dict = {"messages": messages, "put_batch": PUT_BATCH}
    figure = _perdura(messages, timeout, details)
    if figure is None:
        return [Figure(WORKLOAD, title, "messages/s", None, "higher", TARGET_MESSAGES_PER_SECOND, details)]
    figures = [Figure(WORKLOAD, title, "messages/s", figure, "higher", TARGET_MESSAGES_PER_SECOND, details)]
    if worker_processes is None or "REDIS_URL" not in os.environ:
        details["celery_comparison"] = "not run: no broker in the embedded mode"
        return figures
    peer_details: dict = {"tasks": messages, "processes": worker_processes, "concurrency": TRIGGER_CONCURRENCY}
    celery_rate = _celery(messages, timeout, worker_processes, pool, peer_details)
    figures.append(
        Figure(
            WORKLOAD, f"Plain Celery no-op tasks x{messages:,}", "tasks/s", celery_rate, "higher", None, peer_details
        )
    )
    if celery_rate:
        details["ratio_to_celery"] = round(figure / celery_rate, 2)
        details["meets_ratio_target"] = figure / celery_rate >= TARGET_RATIO_TO_CELERY
    return figures


def _perdura(messages: int, timeout: float, details: dict) -> float | None:
    already = Invocation.objects.filter(function_name=FUNCTION).count()
    started = perf_counter()
    for batch in chunks(range(messages), PUT_BATCH):
        put_messages(QUEUE, ["{}"] * len(batch))
    details["client_put_seconds"] = round(perf_counter() - started, 3)
    try:
        finished = wait_until(
            lambda: (
                not QueuedMessage.objects.filter(queue=QUEUE).exists()
                and Invocation.objects.filter(function_name=FUNCTION).count() - already >= messages
            ),
            timeout,
            f"{messages} queue messages run",
        )
    except TimedOut as error:
        details.update(error=str(error), left=QueuedMessage.objects.filter(queue=QUEUE).count())
        return None
    elapsed = finished - started
    details["elapsed_seconds"] = round(elapsed, 3)
    details["failed"] = Invocation.objects.filter(function_name=FUNCTION, status=Invocation.Status.FAILED).count()
    return messages / elapsed


def _celery(messages: int, timeout: float, processes: int, pool: str, details: dict) -> float | None:
    celery_peer.reset()
    log_dir = Path(tempfile.mkdtemp(prefix="perdura-q1-celery-"))
    workers = celery_peer.start_workers(processes, TRIGGER_CONCURRENCY, pool, log_dir)
    try:
        _wait_for_peers(processes, timeout)
        started = perf_counter()
        celery_peer.send(messages)
        details["client_send_seconds"] = round(perf_counter() - started, 3)
        try:
            finished = wait_until(lambda: celery_peer.done() >= messages, timeout, f"{messages} Celery tasks run")
        except TimedOut as error:
            details.update(error=str(error), done=celery_peer.done())
            return None
        details["elapsed_seconds"] = round(finished - started, 3)
        return messages / (finished - started)
    finally:
        for process in workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        celery_peer.reset()


def _wait_for_peers(count: int, timeout: float) -> None:
    def ready() -> bool:
        replies = celery_peer.app.control.ping(timeout=0.5) or []
        return sum(1 for reply in replies for name in reply if name.startswith("peer")) >= count

    wait_until(ready, min(timeout, 60.0), f"{count} Celery peer workers to start")
