"""Q1's comparison: plain Celery no-op tasks on the same broker, run by worker processes as
many as Perdura's and with as many pool slots as Perdura's queue consumers.

The task's only work is counting itself in Redis (one INCR), so that the runner can tell when
all of them ran without a result backend; Perdura's consumer writes an invocation row per
message, which is far more.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import redis
from celery import Celery

QUEUE = "bench.celery-peer"
COUNTER_KEY = "bench:celery-peer:done"

# Not the current app: the bench process also sends Perdura's own wake-ups, through the project's app.
app = Celery("bench-celery-peer", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"), set_as_current=False)
app.conf.update(task_ignore_result=True, worker_prefetch_multiplier=4, task_acks_late=False)


@app.task(name="bench.celery_peer.noop")
def noop() -> None:
    _redis().incr(COUNTER_KEY)


_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(app.conf.broker_url)
    return _client


def start_workers(count: int, concurrency: int, pool: str, log_dir: Path) -> list[subprocess.Popen]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bench.celery_peer",
        "worker",
        "-Q",
        QUEUE,
        "-c",
        str(concurrency),
        "-P",
        pool,
        "-l",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    processes = []
    for number in range(count):
        with open(log_dir / f"celery-peer-{number}.log", "wb") as log:
            processes.append(
                subprocess.Popen(
                    [*command, "-n", f"peer{number}@%h"],
                    cwd=Path(__file__).resolve().parent.parent,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    return processes


def done() -> int:
    return int(_redis().get(COUNTER_KEY) or 0)


def reset() -> None:
    _redis().delete(COUNTER_KEY, QUEUE)


def send(count: int) -> None:
    for _ in range(count):
        noop.apply_async(queue=QUEUE)
