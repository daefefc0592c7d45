"""W3 FanOutFanIn: one instance scheduling N activities at once and gathering them; activities/s."""

from __future__ import annotations

import uuid

from bench.measure import Figure, TimedOut, wait_until
from orchestrations import services

WORKLOAD = "W3"
ORCHESTRATOR = "bench_fan_out_fan_in"
TARGET_ACTIVITIES_PER_SECOND = 1000.0


def run(activities: int, *, timeout: float) -> list[Figure]:
    title = f"FanOutFanIn{activities}"
    details: dict = {"activities": activities}
    instance_id = services.start(ORCHESTRATOR, activities, instance_id=f"w3-{uuid.uuid4().hex[:12]}")
    try:
        wait_until(lambda: services.get(instance_id).is_terminal, timeout, f"{title} finishing")
    except TimedOut as error:
        details.update(error=str(error), history_length=services.get(instance_id).history_length)
        return [Figure(WORKLOAD, title, "activities/s", None, "higher", TARGET_ACTIVITIES_PER_SECOND, details)]
    instance = services.get(instance_id)
    expected = sum(number * number for number in range(activities))
    if instance.runtime_status != "Completed" or services.parse_json(instance.output, "output") != expected:
        details["error"] = f"{instance_id} ended {instance.runtime_status} with output {instance.output!r}"
        return [Figure(WORKLOAD, title, "activities/s", None, "higher", TARGET_ACTIVITIES_PER_SECOND, details)]
    elapsed = (instance.completed_at - instance.created_at).total_seconds()
    details.update(elapsed_seconds=round(elapsed, 3), history_length=instance.history_length)
    return [
        Figure(WORKLOAD, title, "activities/s", activities / elapsed, "higher", TARGET_ACTIVITIES_PER_SECOND, details)
    ]
