"""W1 HelloSequence5: N instances, each calling an activity for five cities in sequence; then
N more of the same orchestration written for Azure Functions, run through the Azure SDK
(target: at least half the native throughput of the same run).

orchestrations/s = N / (last completed - first created), from the instances' own timestamps;
also the p50 and p99 of each instance's completed - created.
"""

from __future__ import annotations

import uuid
from time import perf_counter

from django.db import transaction

from bench.functions import CITIES
from bench.measure import Figure, TimedOut, chunks, percentile, wait_until
from orchestrations import services
from orchestrations.engine.status import TERMINAL_STATUSES
from orchestrations.models import Instance

WORKLOAD = "W1"
ORCHESTRATOR = "bench_hello_sequence5"
#: The same orchestration written for Azure Functions (bench/azure_functions.py).
AZURE_ORCHESTRATOR = "bench_az_hello_sequence5"
#: The Azure SDK's path should keep at least this share of the native throughput.
TARGET_AZURE_SHARE = 0.5
#: Instances started per transaction: the client's commits, not the engine, would otherwise
#: set the pace (each services.start is a commit of its own).
START_BATCH = 50
TARGET_POSTGRES = 171.0
TARGET_EMBEDDED = 50.0
EXPECTED_OUTPUT = [f"Hello {city}!" for city in CITIES]


def run(instances: int, *, timeout: float, embedded: bool) -> list[Figure]:
    """The native orchestration, then the same written for Azure Functions, in the same run."""
    native = _run(ORCHESTRATOR, f"HelloSequence5 x{instances:,}", instances, timeout, _target(embedded))
    native_rate = native[0].value
    azure_target = native_rate * TARGET_AZURE_SHARE if native_rate else None
    azure = _run(AZURE_ORCHESTRATOR, f"HelloSequence5 x{instances:,}, Azure SDK", instances, timeout, azure_target)
    if native_rate and azure[0].value:
        azure[0].details["share_of_native"] = round(azure[0].value / native_rate, 2)
    return native + azure


def _run(orchestrator: str, title: str, instances: int, timeout: float, target: float | None) -> list[Figure]:
    prefix = f"w1-{uuid.uuid4().hex[:8]}-"
    instance_ids = [f"{prefix}{number:06d}" for number in range(instances)]
    started = perf_counter()
    for batch in chunks(instance_ids, START_BATCH):
        with transaction.atomic():
            for instance_id in batch:
                services.start(orchestrator, instance_id=instance_id)
    start_seconds = perf_counter() - started
    rows = Instance.objects.filter(instance_id__startswith=prefix)
    details = {"instances": instances, "start_batch": START_BATCH, "client_start_seconds": round(start_seconds, 3)}
    try:
        wait_until(
            lambda: rows.filter(runtime_status__in=TERMINAL_STATUSES).count() >= instances,
            timeout,
            f"{instances} {orchestrator} instances finishing",
        )
    except TimedOut as error:
        details.update(error=str(error), finished=rows.filter(runtime_status__in=TERMINAL_STATUSES).count())
        return [Figure(WORKLOAD, title, "orchestrations/s", None, "higher", target, details)]

    finished = list(rows.values_list("runtime_status", "output", "created_at", "completed_at"))
    failures = [status for status, output, _, _ in finished if status != "Completed"]
    wrong = [
        output
        for status, output, _, _ in finished
        if status == "Completed" and services.parse_json(output, "output") != EXPECTED_OUTPUT
    ]
    if failures or wrong:
        details.update(error=f"{len(failures)} instances did not complete, {len(wrong)} returned a wrong output")
        return [Figure(WORKLOAD, title, "orchestrations/s", None, "higher", target, details)]
    first_created = min(created for _, _, created, _ in finished)
    last_completed = max(completed for _, _, _, completed in finished)
    elapsed = (last_completed - first_created).total_seconds()
    latencies = [(completed - created).total_seconds() * 1000 for _, _, created, completed in finished]
    details["elapsed_seconds"] = round(elapsed, 3)
    return [
        Figure(WORKLOAD, title, "orchestrations/s", instances / elapsed, "higher", target, details),
        Figure(WORKLOAD, title, "p50 instance latency (ms)", percentile(latencies, 0.50), "lower"),
        Figure(WORKLOAD, title, "p99 instance latency (ms)", percentile(latencies, 0.99), "lower"),
    ]


def _target(embedded: bool) -> float:
    return TARGET_EMBEDDED if embedded else TARGET_POSTGRES
