"""Functions for the concurrency-limit tests (tests/functions/test_concurrency_*.py). Worker
processes import them too (through tests/function_apps.py).

Each run of a counted activity adds itself to a counter in a file for as long as it runs, and
returns how many runs were going on when it started (itself included): the largest such
number over a fan-out is the most that ever ran at once. A file, locked with flock, is shared
alike by the threads of one process and by worker processes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from pathlib import Path

from functions import FunctionApp

app = FunctionApp("tests-concurrency")

#: The limit of ``concurrency_limited_step``.
LIMIT = 2


@contextlib.contextmanager
def _counter(path: str) -> Iterator[dict]:
    with open(path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        state = json.loads(file.read() or '{"running": 0}')
        yield state
        file.seek(0)
        file.truncate()
        file.write(json.dumps(state))


def _counted(spec: dict) -> int:
    with _counter(spec["counter"]) as state:
        state["running"] += 1
        running = state["running"]
    try:
        time.sleep(spec["seconds"])
    finally:
        with _counter(spec["counter"]) as state:
            state["running"] -= 1
    return running


@app.activity(max_concurrency=LIMIT)
def concurrency_limited_step(spec: dict) -> int:
    return _counted(spec)


@app.activity
def concurrency_unlimited_step(spec: dict) -> int:
    return _counted(spec)


@app.activity(max_concurrency=1)
def concurrency_stalls_once(marker: str) -> str:
    """Hangs on its first run (the test kills its worker meanwhile); later runs return at once."""
    path = Path(marker)
    if not path.exists():
        path.write_text("started")
        time.sleep(600)
    return "done"


@app.orchestrator
def concurrency_fan_out(ctx):
    """Calls ``spec["activity"]`` ``spec["calls"]`` times at once; returns each call's count."""
    spec = ctx.get_input()
    return (yield ctx.task_all([ctx.call_activity(spec["activity"], spec) for _ in range(spec["calls"])]))


@app.orchestrator
def concurrency_stall(ctx):
    return (yield ctx.call_activity("concurrency_stalls_once", ctx.get_input()))


@app.orchestrator
def concurrency_chain(ctx):
    """An unlimited call, then a limited one: the second is what an activity worker would
    carry on with."""
    spec = ctx.get_input()
    first = yield ctx.call_activity("concurrency_unlimited_step", spec)
    second = yield ctx.call_activity("concurrency_limited_step", spec)
    return [first, second]
