"""W2 Chain100: one instance calling 100 activities one after another; ms per step. Then the
same orchestration written for Azure Functions, run through the Azure SDK (target: at most
twice the native ms per step of the same run, i.e. at least half its speed).

Each repetition is a fresh instance, run alone; the figure is the median of the repetitions.
"""

from __future__ import annotations

import statistics
import uuid

from bench.measure import Figure, TimedOut, wait_until
from orchestrations import services

WORKLOAD = "W2"
ORCHESTRATOR = "bench_chain"
AZURE_ORCHESTRATOR = "bench_az_chain"
TARGET_MS_PER_STEP = 3.3
#: The Azure SDK's path may take at most this many times the native ms per step.
TARGET_AZURE_FACTOR = 2.0


def run(steps: int, *, repetitions: int, timeout: float) -> list[Figure]:
    """The native chain, then the same written for Azure Functions, in the same run."""
    [native] = _run(ORCHESTRATOR, f"Chain{steps}", steps, repetitions, timeout, TARGET_MS_PER_STEP)
    target = native.value * TARGET_AZURE_FACTOR if native.value else None
    [azure] = _run(AZURE_ORCHESTRATOR, f"Chain{steps}, Azure SDK", steps, repetitions, timeout, target)
    if native.value and azure.value:
        azure.details["share_of_native_speed"] = round(native.value / azure.value, 2)
    return [native, azure]


def _run(
    orchestrator: str, title: str, steps: int, repetitions: int, timeout: float, target: float | None
) -> list[Figure]:
    per_step = []
    details: dict = {"steps": steps, "repetitions": repetitions}
    for _ in range(repetitions):
        instance_id = services.start(orchestrator, steps, instance_id=f"w2-{uuid.uuid4().hex[:12]}")
        try:
            wait_until(
                lambda instance_id=instance_id: services.get(instance_id).is_terminal, timeout, f"{title} finishing"
            )
        except TimedOut as error:
            details.update(error=str(error), history_length=services.get(instance_id).history_length)
            return [Figure(WORKLOAD, title, "ms per step", None, "lower", target, details)]
        instance = services.get(instance_id)
        if instance.runtime_status != "Completed" or services.parse_json(instance.output, "output") != steps:
            details.update(error=f"{instance_id} ended {instance.runtime_status} with output {instance.output!r}")
            return [Figure(WORKLOAD, title, "ms per step", None, "lower", target, details)]
        per_step.append((instance.completed_at - instance.created_at).total_seconds() * 1000 / steps)
    details["ms_per_step_each"] = [round(value, 3) for value in per_step]
    return [Figure(WORKLOAD, title, "ms per step", statistics.median(per_step), "lower", target, details)]
