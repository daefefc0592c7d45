"""Function chaining: hello_sequence and hello_sequence5."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.engine.events import EventType
from orchestrations.worker.loop import drain_all
from tests.samples import COMPLETION_TIMEOUT


@pytest.mark.django_db
def test_hello_sequence_greets_three_cities_in_order():
    instance_id = services.start("hello_sequence")

    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


@pytest.mark.django_db
def test_hello_sequence_calls_one_activity_at_a_time():
    instance_id = services.start("hello_sequence")

    drain_all()

    # Chaining: each say_hello is scheduled only after the previous one completed.
    kinds = [row.event_type for row in services.history(instance_id)]
    scheduled_or_completed = [k for k in kinds if k in (EventType.TASK_SCHEDULED, EventType.TASK_COMPLETED)]
    assert scheduled_or_completed == [EventType.TASK_SCHEDULED, EventType.TASK_COMPLETED] * 3


@pytest.mark.slow
def test_hello_sequence5_completes_with_background_workers(workers):
    instance_id = services.start("hello_sequence5")

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == [
        "Hello Tokyo!",
        "Hello Seattle!",
        "Hello London!",
        "Hello Amsterdam!",
        "Hello Mumbai!",
    ]
