"""status_document: the Durable Functions status JSON of an instance."""

from __future__ import annotations

import pytest

from orchestrations import services
from orchestrations.services.status import status_document
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import run_to_end

pytestmark = pytest.mark.django_db


def test_the_status_of_a_completed_instance():
    instance = run_to_end("echo_orchestrator", {"x": 1}, instance_id="done")

    document = status_document(instance)

    assert document == {
        "name": "echo_orchestrator",
        "instanceId": "done",
        "runtimeStatus": "Completed",
        "input": {"x": 1},
        "customStatus": None,
        "output": {"x": 1},
        "createdTime": instance.created_at.isoformat().replace("+00:00", "Z"),
        "lastUpdatedTime": instance.updated_at.isoformat().replace("+00:00", "Z"),
    }
    assert document["createdTime"].endswith("Z")


def test_the_status_of_a_failed_instance_shows_its_error_as_output():
    instance = run_to_end("failing_orchestrator", "broken")

    output = status_document(instance)["output"]

    assert output.startswith("orchestrations.engine.failures.TaskFailedError: ")
    assert "broken" in output


def test_the_status_can_leave_the_input_out():
    instance = run_to_end("echo_orchestrator", "secret")

    assert status_document(instance, show_input=False)["input"] is None


def test_the_status_history_leaves_out_orchestrator_started_and_shows_inputs_and_results():
    instance = run_to_end("echo_orchestrator", "hi")

    events = status_document(instance, history=services.history(instance.pk))["historyEvents"]

    assert [event["EventType"] for event in events] == [
        "ExecutionStarted",
        "TaskScheduled",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
    started, scheduled, completed, finished = events
    assert (started["Name"], started["Input"]) == ("echo_orchestrator", "hi")
    assert (scheduled["Name"], scheduled["Input"], scheduled["EventId"]) == ("echo", "hi", 0)
    assert (completed["Result"], completed["EventId"]) == ("hi", 0)
    assert (finished["Result"], finished["OrchestrationStatus"]) == ("hi", "Completed")


def test_the_status_history_shows_failure_details():
    instance = run_to_end("failing_orchestrator", "broken")

    events = status_document(instance, history=services.history(instance.pk))["historyEvents"]

    [task_failed] = [event for event in events if event["EventType"] == "TaskFailed"]
    assert task_failed["FailureDetails"]["ErrorType"] == "ValueError"
    assert task_failed["FailureDetails"]["ErrorMessage"] == "broken"
    assert "Traceback" in task_failed["FailureDetails"]["StackTrace"]


def test_the_status_history_can_leave_results_out():
    instance = run_to_end("echo_orchestrator", "hi")

    events = status_document(instance, history=services.history(instance.pk), show_output=False)["historyEvents"]

    assert not any("Result" in event for event in events)


def test_the_status_history_shows_a_timer_fire_time_and_a_sub_orchestration_id():
    services.start("wait_on_timer", 3600, instance_id="sleeper")
    run_to_end(
        "call_sub_orchestrator_by_name",
        {"orchestrator": "echo_orchestrator", "input": 1, "instance_id": "kid"},
        instance_id="parent",
    )
    drain_all()

    [timer] = [
        event
        for event in status_document(services.get("sleeper"), history=services.history("sleeper"))["historyEvents"]
        if event["EventType"] == "TimerCreated"
    ]
    [created] = [
        event
        for event in status_document(services.get("parent"), history=services.history("parent"))["historyEvents"]
        if event["EventType"] == "SubOrchestrationInstanceCreated"
    ]
    assert "FireAt" in timer
    assert created["InstanceId"] == "kid"
