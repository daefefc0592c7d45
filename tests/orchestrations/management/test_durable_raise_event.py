"""``durable raise-event``: deliver an external event to a running instance."""

from __future__ import annotations

import pytest

from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable, stored_rows


@pytest.fixture
def waiting(db) -> str:
    """An instance of wait_for_approval, waiting for its "approval" event."""
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()
    return "approval-1"


def test_raise_event_delivers_the_data_to_the_waiting_orchestrator(waiting):
    outcome = durable("raise-event", waiting, "approval", "--data", '{"approved": true, "by": "ana"}')
    drain_all()

    assert outcome.exit_code == 0
    assert outcome.stdout == "Raised event 'approval' on instance 'approval-1'.\n"
    document = durable("status", waiting).json()
    assert document["runtimeStatus"] == "Completed"
    assert document["output"] == {"approved": True, "by": "ana"}


def test_raise_event_without_data_delivers_null(waiting):
    durable("raise-event", waiting, "approval")
    drain_all()

    document = durable("status", waiting).json()
    assert document["runtimeStatus"] == "Completed"
    assert document["output"] is None


def test_raise_event_with_malformed_data_exits_2_and_sends_nothing(waiting):
    before = stored_rows()

    outcome = durable("raise-event", waiting, "approval", "--data", "{approved: yes}")

    assert outcome.exit_code == 2
    assert "--data is not valid JSON" in outcome.stderr
    assert stored_rows() == before


@pytest.mark.django_db
def test_raise_event_to_an_unknown_instance_exits_2():
    outcome = durable("raise-event", "nobody", "approval", "--data", "true")

    assert outcome.exit_code == 2
    assert "no instance with id 'nobody'" in outcome.stderr
    assert stored_rows() == {"instances": [], "history": 0, "messages": 0, "work_items": 0}


def test_raise_event_to_a_finished_instance_exits_2_and_sends_nothing(waiting):
    durable("raise-event", waiting, "approval", "--data", "true")
    drain_all()
    before = stored_rows()

    outcome = durable("raise-event", waiting, "approval", "--data", "false")

    assert outcome.exit_code == 2
    assert "instance 'approval-1' has already finished (Completed)" in outcome.stderr
    assert stored_rows() == before


def test_raise_event_with_a_blank_name_exits_2(waiting):
    before = stored_rows()

    outcome = durable("raise-event", waiting, " ")

    assert outcome.exit_code == 2
    assert "an event name must be a non-empty string" in outcome.stderr
    assert stored_rows() == before


def test_raise_event_with_a_name_of_10000_characters_exits_2_and_sends_nothing(waiting):
    before = stored_rows()

    outcome = durable("raise-event", waiting, "e" * 10_000, "--data", "true")

    assert outcome.exit_code == 2
    assert "an event name may have at most 300 characters; this one has 10,000" in outcome.stderr
    assert stored_rows() == before
