"""``durable terminate``: end a running instance."""

from __future__ import annotations

import pytest

from orchestrations.access.models import AuditLogEntry
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable, stored_rows


@pytest.mark.django_db
def test_terminate_ends_the_instance_with_the_reason_as_output():
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()

    outcome = durable("terminate", "approval-1", "--reason", "no longer needed")
    drain_all()

    assert outcome.exit_code == 0
    assert outcome.stdout == "Requested termination of instance 'approval-1'.\n"
    document = durable("status", "approval-1", "--history").json()
    assert document["runtimeStatus"] == "Terminated"
    assert document["output"] == "no longer needed"
    terminated, completed = document["historyEvents"][-2:]
    assert terminated["EventType"] == "ExecutionTerminated"
    assert completed["OrchestrationStatus"] == "Terminated"


@pytest.mark.django_db
def test_terminate_of_an_unknown_instance_exits_2():
    outcome = durable("terminate", "nobody")

    assert outcome.exit_code == 2
    assert "no instance with id 'nobody'" in outcome.stderr


@pytest.mark.django_db
def test_terminate_of_a_finished_instance_exits_2_and_changes_nothing():
    durable("start", "echo_orchestrator", "--id", "done", "--input", "1")
    drain_all()
    before = stored_rows()

    outcome = durable("terminate", "done", "--reason", "too late")

    assert outcome.exit_code == 2
    assert "instance 'done' has already finished (Completed)" in outcome.stderr
    assert stored_rows() == before


@pytest.mark.django_db
def test_terminate_is_audited_with_its_reason():
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()

    durable("terminate", "approval-1", "--reason", "no longer needed")

    entry = AuditLogEntry.objects.get(action="terminate")
    assert (entry.source, entry.target_id, entry.reason) == ("cli", "approval-1", "no longer needed")
