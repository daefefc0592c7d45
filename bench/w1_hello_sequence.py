"""W1 HelloSequence5: N instances, each calling an activity for five cities in sequence.

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
#: Instances started per transaction: the client's commits, not the engine, would otherwise
#: set the pace (each services.start is a commit of its own).
START_BATCH = 50
TARGET_POSTGRES = 171.0
TARGET_EMBEDDED = 50.0
EXPECTED_OUTPUT = [f"Hello {city}!" for city in CITIES]


def run(instances: int, *, timeout: float, embedded: bool) -> list[Figure]:
    title = f"HelloSequence5 x{instances:,}"
    prefix = f"w1-{uuid.uuid4().hex[:8]}-"
    instance_ids = [f"{prefix}{number:06d}" for number in range(instances)]
    started = perf_counter()
    for batch in chunks(instance_ids, START_BATCH):
        with transaction.atomic():
            for instance_id in batch:
                services.start(ORCHESTRATOR, instance_id=instance_id)
    start_seconds = perf_counter() - started
    rows = Instance.objects.filter(instance_id__startswith=prefix)
    details = {"instances": instances, "start_batch": START_BATCH, "client_start_seconds": round(start_seconds, 3)}
    try:
        wait_until(
            lambda: rows.filter(runtime_status__in=TERMINAL_STATUSES).count() >= instances,
            timeout,
            f"{instances} {ORCHESTRATOR} instances finishing",
        )
    except TimedOut as error:
        details.update(error=str(error), finished=rows.filter(runtime_status__in=TERMINAL_STATUSES).count())
        return [Figure(WORKLOAD, title, "orchestrations/s", None, "higher", _target(embedded), details)]

    finished = list(rows.values_list("runtime_status", "output", "created_at", "completed_at"))
    failures = [status for status, output, _, _ in finished if status != "Completed"]
    wrong = [
        output
        for status, output, _, _ in finished
        if status == "Completed" and services.parse_json(output, "output") != EXPECTED_OUTPUT
    ]
    if failures or wrong:
        details.update(error=f"{len(failures)} instances did not complete, {len(wrong)} returned a wrong output")
        return [Figure(WORKLOAD, title, "orchestrations/s", None, "higher", _target(embedded), details)]
    first_created = min(created for _, _, created, _ in finished)
    last_completed = max(completed for _, _, _, completed in finished)
    elapsed = (last_completed - first_created).total_seconds()
    latencies = [(completed - created).total_seconds() * 1000 for _, _, created, completed in finished]
    details["elapsed_seconds"] = round(elapsed, 3)
    return [
        Figure(WORKLOAD, title, "orchestrations/s", instances / elapsed, "higher", _target(embedded), details),
        Figure(WORKLOAD, title, "p50 instance latency (ms)", percentile(latencies, 0.50), "lower"),
        Figure(WORKLOAD, title, "p99 instance latency (ms)", percentile(latencies, 0.99), "lower"),
    ]


def _target(embedded: bool) -> float:
    return TARGET_EMBEDDED if embedded else TARGET_POSTGRES
