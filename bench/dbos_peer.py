"""The peer: W1, W2 and W3 on DBOS Transact, against the same database server in the same run.

DBOS is a library: its workflows run inside the process that launches it, in a thread pool,
and checkpoint every step to its system database. Each workload runs in a process of its own
(``python -m bench.dbos_peer W1 --size 1000 --database-url ...``), which prints its figures
as one JSON line, so that DBOS's threads and global state never share a process with Django.

The figures are computed the way Perdura's are, from DBOS's own timestamps (the
workflow_status rows' created_at and updated_at, in ms): W1 N / (last completed - first
created) and each workflow's latency; W2 a workflow's duration / steps; W3 a workflow's
duration / activities. On SQLite DBOS keeps those timestamps in whole seconds, so there the
peer's wall clock times the runs instead (start to last result) and W1 has no latencies.
W3's fan-out is DBOS's documented idiom for it: the workflow enqueues one step per activity
on a queue and gathers the handles' results.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FAN_OUT_QUEUE = "bench_fan_out"
#: DBOS's default queue poll is 1 s; a short one keeps the poll from dominating W3.
FAN_OUT_POLL_SECONDS = 0.05
CITIES = ["Tokyo", "Seattle", "London", "Amsterdam", "Mumbai"]
METRICS = {
    "W1": ["orchestrations/s", "p50 instance latency (ms)", "p99 instance latency (ms)"],
    "W2": ["ms per step"],
    "W3": ["activities/s"],
}


def dbos_version() -> str | None:
    try:
        return metadata.version("dbos")
    except metadata.PackageNotFoundError:
        return None


def run_peer(workload: str, size: int, *, repetitions: int, database_url: str, timeout: float) -> dict[str, Any]:
    """Run one workload on DBOS in a child process; return its figures, or an ``error``."""
    if dbos_version() is None:
        return {"error": 'DBOS Transact is not installed (pip install -e ".[bench]")'}
    command = [
        sys.executable,
        "-m",
        "bench.dbos_peer",
        workload,
        "--size",
        str(size),
        "--repetitions",
        str(repetitions),
        "--database-url",
        database_url,
    ]
    try:
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"DBOS did not finish {workload} within {timeout:g} s"}
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        return {"error": f"DBOS {workload} failed (exit {completed.returncode}): {completed.stderr[-2000:]}"}
    return json.loads(lines[-1])


# What runs in the child process.


def _define_workflows():
    from dbos import DBOS

    @DBOS.step()
    def say_hello(city: str) -> str:
        return f"Hello {city}!"

    @DBOS.workflow()
    def hello_sequence5() -> list[str]:
        return [say_hello(city) for city in CITIES]

    @DBOS.step()
    def increment(value: int) -> int:
        return value + 1

    @DBOS.workflow()
    def chain(steps: int) -> int:
        value = 0
        for _ in range(steps):
            value = increment(value)
        return value

    @DBOS.step()
    def square(number: int) -> int:
        return number * number

    @DBOS.workflow()
    def fan_out_fan_in(count: int) -> int:
        queue = DBOS.retrieve_queue(FAN_OUT_QUEUE)
        handles = [queue.enqueue(square, number) for number in range(count)]
        return sum(handle.get_result(polling_interval_sec=FAN_OUT_POLL_SECONDS) for handle in handles)

    return hello_sequence5, chain, fan_out_fan_in


def _timestamps_ms(workflow_ids: list[str]) -> list[tuple[int, int]]:
    """Each workflow's (created_at, updated_at) from DBOS's workflow_status, checking that all succeeded."""
    from dbos import DBOS

    statuses = DBOS.list_workflows(workflow_ids=workflow_ids, load_input=False, load_output=False)
    failed = [status.workflow_id for status in statuses if status.status != "SUCCESS"]
    if failed or len(statuses) != len(workflow_ids):
        raise RuntimeError(
            f"{len(failed)} DBOS workflows did not succeed; {len(statuses)} of {len(workflow_ids)} found"
        )
    return [(status.created_at, status.updated_at) for status in statuses]


def _elapsed_seconds(workflow_id: str, wall_seconds: float, precise: bool) -> float:
    if not precise:
        return wall_seconds
    ((created, updated),) = _timestamps_ms([workflow_id])
    return (updated - created) / 1000


def run_w1(hello_sequence5, size: int, precise: bool) -> dict[str, Any]:
    from dbos import DBOS

    from bench.measure import percentile

    started = time.perf_counter()
    handles = [DBOS.start_workflow(hello_sequence5) for _ in range(size)]
    results = [handle.get_result() for handle in handles]
    wall_seconds = time.perf_counter() - started
    if any(result != [f"Hello {city}!" for city in CITIES] for result in results):
        raise RuntimeError("a DBOS hello_sequence5 returned a wrong result")
    details: dict[str, Any] = {"instances": size, "start": "DBOS.start_workflow", "timing": _timing(precise)}
    if not precise:
        details["elapsed_seconds"] = round(wall_seconds, 3)
        return {"figures": {"orchestrations/s": size / wall_seconds}, "details": details}
    times = _timestamps_ms([handle.workflow_id for handle in handles])
    elapsed = (max(updated for _, updated in times) - min(created for created, _ in times)) / 1000
    latencies = [float(updated - created) for created, updated in times]
    details["elapsed_seconds"] = round(elapsed, 3)
    figures = {
        "orchestrations/s": size / elapsed,
        "p50 instance latency (ms)": percentile(latencies, 0.50),
        "p99 instance latency (ms)": percentile(latencies, 0.99),
    }
    return {"figures": figures, "details": details}


def run_w2(chain, steps: int, repetitions: int, precise: bool) -> dict[str, Any]:
    from dbos import DBOS

    per_step = []
    for _ in range(repetitions):
        started = time.perf_counter()
        handle = DBOS.start_workflow(chain, steps)
        if handle.get_result() != steps:
            raise RuntimeError("the DBOS chain returned a wrong result")
        elapsed = _elapsed_seconds(handle.workflow_id, time.perf_counter() - started, precise)
        per_step.append(elapsed * 1000 / steps)
    details = {"steps": steps, "ms_per_step_each": [round(value, 3) for value in per_step], "timing": _timing(precise)}
    return {"figures": {"ms per step": statistics.median(per_step)}, "details": details}


def run_w3(fan_out_fan_in, activities: int, precise: bool) -> dict[str, Any]:
    from dbos import DBOS

    DBOS.register_queue(FAN_OUT_QUEUE, polling_interval_sec=FAN_OUT_POLL_SECONDS)
    started = time.perf_counter()
    handle = DBOS.start_workflow(fan_out_fan_in, activities)
    if handle.get_result() != sum(number * number for number in range(activities)):
        raise RuntimeError("the DBOS fan-out returned a wrong result")
    elapsed = _elapsed_seconds(handle.workflow_id, time.perf_counter() - started, precise)
    details = {
        "activities": activities,
        "elapsed_seconds": round(elapsed, 3),
        "fan_out": f"queue.enqueue per activity, queue polled every {FAN_OUT_POLL_SECONDS} s",
        "timing": _timing(precise),
    }
    return {"figures": {"activities/s": activities / elapsed}, "details": details}


def _timing(precise: bool) -> str:
    if precise:
        return "workflow_status created_at/updated_at (ms)"
    # DBOS keeps SQLite timestamps in whole seconds: too coarse for these runs.
    return "wall clock in the peer process, start to last result (SQLite timestamps are whole seconds)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dbos_peer", description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(METRICS))
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--database-url", required=True, help="the DBOS system database (postgresql:// or sqlite://)")
    args = parser.parse_args(argv)

    from dbos import DBOS

    logging.getLogger("dbos").setLevel(logging.WARNING)
    hello_sequence5, chain, fan_out_fan_in = _define_workflows()
    url = args.database_url.replace("postgres://", "postgresql://", 1)
    DBOS(config={"name": "perdura-bench", "system_database_url": url, "log_level": "WARNING"})
    DBOS.launch()
    try:
        precise = url.startswith("postgresql")
        if args.workload == "W1":
            result = run_w1(hello_sequence5, args.size, precise)
        elif args.workload == "W2":
            result = run_w2(chain, args.size, args.repetitions, precise)
        else:
            result = run_w3(fan_out_fan_in, args.size, precise)
    finally:
        DBOS.destroy()
    result["version"] = dbos_version()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
