"""``durable status``: the Durable Functions status document of one instance."""

from __future__ import annotations

import pytest

from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable

STATUS_FIELDS = {
    "name",
    "instanceId",
    "runtimeStatus",
    "input",
    "output",
    "customStatus",
    "createdTime",
    "lastUpdatedTime",
}


@pytest.mark.django_db
def test_status_prints_the_status_document_as_json():
    durable("start", "hello_sequence", "--id", "greetings", "--input", '{"lang": "en"}')
    drain_all()

    outcome = durable("status", "greetings")

    assert outcome.exit_code == 0
    document = outcome.json()
    assert set(document) == STATUS_FIELDS
    assert document["name"] == "hello_sequence"
    assert document["instanceId"] == "greetings"
    assert document["runtimeStatus"] == "Completed"
    assert document["input"] == {"lang": "en"}
    assert document["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert document["createdTime"].endswith("Z")
    assert outcome.stdout.startswith('{\n  "name": "hello_sequence",')


@pytest.mark.django_db
def test_status_of_a_pending_instance_shows_it_pending():
    durable("start", "echo_orchestrator", "--id", "queued")

    document = durable("status", "queued").json()

    assert document["runtimeStatus"] == "Pending"
    assert document["output"] is None


@pytest.mark.django_db
def test_status_with_history_adds_the_history_events():
    durable("start", "hello_sequence", "--id", "greetings")
    drain_all()

    document = durable("status", "greetings", "--history").json()

    events = document["historyEvents"]
    assert events[0]["EventType"] == "ExecutionStarted"
    assert [event["Input"] for event in events if event["EventType"] == "TaskScheduled"] == [
        "Tokyo",
        "Seattle",
        "London",
    ]
    assert [event["Result"] for event in events if event["EventType"] == "TaskCompleted"] == [
        "Hello Tokyo!",
        "Hello Seattle!",
        "Hello London!",
    ]
    assert events[-1]["EventType"] == "ExecutionCompleted"


@pytest.mark.django_db
def test_status_without_history_leaves_the_history_out():
    durable("start", "hello_sequence", "--id", "greetings")
    drain_all()

    assert "historyEvents" not in durable("status", "greetings").json()


@pytest.mark.django_db
def test_status_of_an_unknown_instance_exits_2():
    outcome = durable("status", "nobody")

    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    assert "no instance with id 'nobody'" in outcome.stderr


@pytest.mark.django_db
def test_status_of_a_failed_instance_prints_it_and_exits_1():
    durable("start", "failing_orchestrator", "--id", "doomed", "--input", '"out of stock"')
    drain_all()

    outcome = durable("status", "doomed")

    assert outcome.exit_code == 1
    document = outcome.json()
    assert document["runtimeStatus"] == "Failed"
    assert document["output"].endswith("Activity 'fail' failed: ValueError: out of stock")
    assert "instance 'doomed' ended Failed: " in outcome.stderr
    assert "ValueError: out of stock" in outcome.stderr


@pytest.mark.django_db
def test_status_of_a_terminated_instance_exits_1():
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()
    durable("terminate", "approval-1", "--reason", "no longer needed")
    drain_all()

    outcome = durable("status", "approval-1")

    assert outcome.exit_code == 1
    assert outcome.json()["runtimeStatus"] == "Terminated"
    assert "instance 'approval-1' ended Terminated" in outcome.stderr
