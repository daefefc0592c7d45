"""services.get, services.history and services.wait_for_completion."""

from __future__ import annotations

import time

import pytest

from orchestrations import services
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import run_to_end

pytestmark = pytest.mark.django_db


def test_getting_an_unknown_instance_is_refused():
    with pytest.raises(services.InstanceNotFoundError, match="no instance with id 'ghost'"):
        services.get("ghost")


def test_history_lists_an_instance_events_in_sequence_order():
    instance = run_to_end("echo_orchestrator", 1)

    history = services.history(instance.pk)

    assert [row.sequence for row in history] == list(range(instance.history_length))
    assert history[1].event_type == "ExecutionStarted"


def test_history_of_an_unknown_instance_is_empty():
    assert services.history("ghost") == []


def test_waiting_for_a_finished_instance_returns_it_at_once():
    finished = run_to_end("echo_orchestrator", 1)

    started = time.monotonic()
    instance = services.wait_for_completion(finished.pk, timeout=5)

    assert instance.runtime_status == "Completed"
    assert time.monotonic() - started < 1


def test_waiting_for_a_running_instance_returns_it_as_it_is_after_the_timeout():
    services.start("wait_for_approval", instance_id="waiting")
    drain_all()

    started = time.monotonic()
    instance = services.wait_for_completion("waiting", timeout=0.2, poll_interval=0.05)

    assert instance.runtime_status == "Running"
    assert 0.2 <= time.monotonic() - started < 1


def test_waiting_for_an_unknown_instance_is_refused():
    with pytest.raises(services.InstanceNotFoundError):
        services.wait_for_completion("ghost", timeout=0.1)
