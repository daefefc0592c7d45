"""``durable suspend`` and ``durable resume``: pause an instance and let it carry on."""

from __future__ import annotations

import pytest

from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable, stored_rows


@pytest.fixture
def waiting(db) -> str:
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()
    return "approval-1"


def test_suspended_instance_holds_events_until_it_is_resumed(waiting):
    suspended = durable("suspend", waiting, "--reason", "audit")
    drain_all()
    assert suspended.exit_code == 0
    assert suspended.stdout == "Requested suspension of instance 'approval-1'.\n"
    assert durable("status", waiting).json()["runtimeStatus"] == "Suspended"

    durable("raise-event", waiting, "approval", "--data", "true")
    drain_all()
    assert durable("status", waiting).json()["runtimeStatus"] == "Suspended"

    resumed = durable("resume", waiting, "--reason", "audit passed")
    drain_all()
    assert resumed.exit_code == 0
    assert resumed.stdout == "Requested resumption of instance 'approval-1'.\n"
    document = durable("status", waiting, "--history").json()
    assert document["runtimeStatus"] == "Completed"
    assert document["output"] is True
    event_types = [event["EventType"] for event in document["historyEvents"]]
    assert event_types.index("ExecutionSuspended") < event_types.index("ExecutionResumed")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["suspend", "resume"])
def test_suspend_or_resume_of_an_unknown_instance_exits_2(action):
    outcome = durable(action, "nobody")

    assert outcome.exit_code == 2
    assert "no instance with id 'nobody'" in outcome.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["suspend", "resume"])
def test_suspend_or_resume_of_a_finished_instance_exits_2_and_changes_nothing(action):
    durable("start", "echo_orchestrator", "--id", "done")
    drain_all()
    before = stored_rows()

    outcome = durable(action, "done")

    assert outcome.exit_code == 2
    assert "instance 'done' has already finished (Completed)" in outcome.stderr
    assert stored_rows() == before
