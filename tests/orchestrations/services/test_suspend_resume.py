"""services.suspend and services.resume: a suspended instance keeps its inbox and does not advance."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import Message
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import event_types, run_activities, run_orchestrations, run_to_end

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspended_waiter():
    services.start("wait_for_approval", instance_id="waiter")
    drain_all()
    services.suspend("waiter", "investigating")
    drain_all()
    return "waiter"


def test_suspending_a_running_instance_records_it(suspended_waiter):
    instance = services.get(suspended_waiter)
    assert instance.runtime_status == "Suspended"
    assert instance.next_message_at is None
    assert event_types(suspended_waiter)[-1] == "ExecutionSuspended"


def test_a_raised_event_waits_in_the_inbox_while_suspended(suspended_waiter):
    history_before = event_types(suspended_waiter)

    services.raise_event(suspended_waiter, "approval", "yes")
    drain_all()

    assert services.get(suspended_waiter).runtime_status == "Suspended"
    assert event_types(suspended_waiter) == history_before
    [waiting] = Message.objects.filter(instance_id=suspended_waiter)
    assert waiting.event_type == "EventRaised"
    assert services.get(suspended_waiter).next_message_at is None


def test_resuming_delivers_what_waited_and_the_orchestration_carries_on(suspended_waiter):
    services.raise_event(suspended_waiter, "approval", "yes")
    drain_all()

    services.resume(suspended_waiter, "all clear")
    drain_all()

    instance = services.get(suspended_waiter)
    assert (instance.runtime_status, instance.output) == ("Completed", '"yes"')
    types = event_types(suspended_waiter)
    assert types.index("ExecutionResumed") < types.index("EventRaised")


def test_resuming_records_running_again(suspended_waiter):
    services.resume(suspended_waiter)
    drain_all()

    assert services.get(suspended_waiter).runtime_status == "Running"
    assert event_types(suspended_waiter)[-1] == "ExecutionResumed"


def test_an_activity_result_waits_in_the_inbox_while_suspended():
    instance_id = services.start("echo_orchestrator", "payload")
    run_orchestrations()
    services.suspend(instance_id)
    run_orchestrations()
    assert services.get(instance_id).runtime_status == "Suspended"

    run_activities()
    drain_all()

    assert services.get(instance_id).runtime_status == "Suspended"
    assert "TaskCompleted" not in event_types(instance_id)
    assert Message.objects.filter(instance_id=instance_id, event_type="TaskCompleted").exists()
    services.resume(instance_id)
    drain_all()
    instance = services.get(instance_id)
    assert (instance.runtime_status, json.loads(instance.output)) == ("Completed", "payload")


def test_suspending_twice_records_one_suspension(suspended_waiter):
    services.suspend(suspended_waiter)
    drain_all()

    assert event_types(suspended_waiter).count("ExecutionSuspended") == 1


def test_resuming_an_instance_that_is_not_suspended_changes_nothing():
    services.start("wait_for_approval", instance_id="awake")
    drain_all()

    services.resume("awake")
    drain_all()

    assert services.get("awake").runtime_status == "Running"
    assert "ExecutionResumed" not in event_types("awake")


def test_terminating_a_suspended_instance_ends_it(suspended_waiter):
    services.raise_event(suspended_waiter, "approval", "too late")
    services.terminate(suspended_waiter, "abandoned")
    drain_all()

    instance = services.get(suspended_waiter)
    assert instance.runtime_status == "Terminated"
    assert json.loads(instance.output) == "abandoned"
    assert not Message.objects.exists()


def test_suspending_a_finished_instance_is_refused():
    finished = run_to_end("echo_orchestrator", 1)

    with pytest.raises(services.InstanceFinishedError):
        services.suspend(finished.pk)
    with pytest.raises(services.InstanceFinishedError):
        services.resume(finished.pk)


def test_suspending_a_pending_instance_records_the_suspension_after_the_start():
    instance_id = services.start("echo_orchestrator", 1)
    services.suspend(instance_id)
    drain_all()

    assert services.get(instance_id).runtime_status == "Suspended"
    types = event_types(instance_id)
    assert types.index("ExecutionStarted") < types.index("ExecutionSuspended")
