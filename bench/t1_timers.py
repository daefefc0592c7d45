"""T1 Timers20x1s: twenty timers every second for a while (60 s; 20 s quick) on two worker
processes, one of them SIGKILLed halfway through and not restarted: how many of the expected
occurrences ran, how many ran twice, and the p99 lateness (invocation start minus scheduled
time).

T1 starts workers of its own, as it must kill one: the timers are turned on only in their
environment (bench/timer_functions.py). The measured window starts at a whole second once
every worker is ready, so the catch-up run for the time the workers took to start is not in
it. In the embedded mode the in-process workers run it and nothing is killed (there is no
process to kill but this one); the figures say so.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import environment
from bench.measure import Figure, percentile
from bench.timer_functions import TIMER_NAMES, enabling_environment

WORKLOAD = "T1"
TARGET_P99_MS = 250.0
#: The lease of T1's workers: a killed worker's claims run again this long after the kill.
LEASE_SECONDS = 5


def run(
    timers: int, seconds: float, *, embedded: bool, workers: int, pool: str, scratch: Path, timeout: float
) -> list[Figure]:
    title = f"Timers{timers}x1s for {seconds:g} s"
    env = {**os.environ, **enabling_environment(timers), "PERDURA_LEASE_SECONDS": str(LEASE_SECONDS)}
    details: dict = {"timers": timers, "seconds": seconds, "workers": 1 if embedded else workers}
    names = TIMER_NAMES[:timers]
    if embedded:
        details["killed"] = "none (embedded mode: the in-process workers)"
        window = _run_in_process(env, seconds)
    else:
        window = _run_with_processes(env, seconds, workers, pool, scratch, details, timeout)
    return _figures(title, names, window, details)


def _run_in_process(env: dict[str, str], seconds: float) -> tuple[datetime, datetime]:
    from orchestrations.worker.inprocess import InProcessWorkers

    saved = dict(os.environ)
    os.environ.update(env)
    workers = InProcessWorkers()
    try:
        workers.start()
        start = _next_whole_second()
        end = start + timedelta(seconds=seconds)
        _sleep_until(end + timedelta(seconds=2))
    finally:
        workers.stop()
        os.environ.clear()
        os.environ.update(saved)
    return start, end


def _run_with_processes(
    env: dict[str, str], seconds: float, count: int, pool: str, scratch: Path, details: dict, timeout: float
) -> tuple[datetime, datetime]:
    workers = environment.WorkerProcesses(count, pool, env, scratch).start()
    try:
        workers.wait_ready(timeout=timeout)
        start = _next_whole_second()
        end = start + timedelta(seconds=seconds)
        _sleep_until(start + timedelta(seconds=seconds / 2))
        doomed = workers.processes[0]
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait()
        details["killed"] = f"1 of {count} worker processes, SIGKILL at {seconds / 2:g} s, not restarted"
        # The killed worker's claims are run by the others once their lease has expired.
        _sleep_until(end + timedelta(seconds=LEASE_SECONDS + 3))
        for process in workers.processes[1:]:
            if process.poll() is not None:
                raise RuntimeError(f"a surviving worker process exited with status {process.returncode}")
    finally:
        workers.stop()
    return start, end


def _figures(title: str, names: list[str], window: tuple[datetime, datetime], details: dict) -> list[Figure]:
    from functions.models import Invocation

    start, end = window
    expected = len(names) * round((end - start).total_seconds())
    runs = []
    for function_name, input_text, started_at in Invocation.objects.filter(function_name__in=names).values_list(
        "function_name", "input", "started_at"
    ):
        scheduled_at = datetime.fromisoformat(json.loads(input_text)["scheduled_at"])
        if start <= scheduled_at < end:
            runs.append((function_name, scheduled_at, (started_at - scheduled_at).total_seconds() * 1000))
    counts = Counter((name, scheduled_at) for name, scheduled_at, _ in runs)
    duplicates = sum(count - 1 for count in counts.values())
    lateness = [late for _, _, late in runs]
    if not lateness:
        details["error"] = "no timer ran in the window"
    details.update(
        expected=expected,
        window=f"{start.isoformat()} .. {end.isoformat()}",
        p50_lateness_ms=round(percentile(lateness, 0.5), 1) if lateness else None,
        max_lateness_ms=round(max(lateness), 1) if lateness else None,
        latest_seconds=_latest_seconds(runs, start),
    )
    return [
        Figure(WORKLOAD, title, "occurrences run", float(len(counts)), "higher", float(expected), details),
        Figure(WORKLOAD, title, "duplicates", float(duplicates), "lower", 0.0, details),
        Figure(
            WORKLOAD,
            title,
            "ms p99 lateness",
            percentile(lateness, 0.99) if lateness else None,
            "lower",
            TARGET_P99_MS,
            details,
        ),
    ]


def _latest_seconds(runs: list[tuple[str, datetime, float]], start: datetime, count: int = 3) -> dict[str, float]:
    """The scheduled seconds whose runs were latest (counted from the window's start, where the
    kill falls at half the window), with their latest run in ms: whether the tail is one
    moment's stall or spread over the run."""
    latest: dict[float, float] = {}
    for _, scheduled_at, late in runs:
        second = (scheduled_at - start).total_seconds()
        latest[second] = max(latest.get(second, 0.0), late)
    worst = sorted(latest.items(), key=lambda item: item[1], reverse=True)[:count]
    return {f"{second:g} s": round(late, 1) for second, late in worst}


def _next_whole_second() -> datetime:
    """A whole second at least one second away: every timer's next occurrence is then in the window."""
    now = datetime.now(UTC)
    return now.replace(microsecond=0) + timedelta(seconds=2)


def _sleep_until(moment: datetime) -> None:
    remaining = (moment - datetime.now(UTC)).total_seconds()
    if remaining > 0:
        time.sleep(remaining)
