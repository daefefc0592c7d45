"""``durable restart``: run an instance again with its original input."""

from __future__ import annotations

import pytest

from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable, stored_rows


@pytest.fixture
def finished(db) -> str:
    durable("start", "echo_orchestrator", "--id", "order-42", "--input", '{"order": 42}', "--version", "v2")
    drain_all()
    return "order-42"


def test_restart_runs_a_finished_instance_again_under_its_id(finished):
    first_created = Instance.objects.get(pk=finished).created_at

    outcome = durable("restart", finished)

    assert outcome.exit_code == 0
    assert outcome.stdout == "order-42\n"
    restarted = Instance.objects.get(pk=finished)
    assert restarted.runtime_status == "Pending"
    assert restarted.created_at > first_created
    drain_all()
    document = durable("status", finished, "--history").json()
    assert document["output"] == {"order": 42}
    assert [event["EventType"] for event in document["historyEvents"]].count("ExecutionStarted") == 1


def test_restart_with_new_id_prints_the_new_instance_id(finished):
    outcome = durable("restart", finished, "--new-id")

    new_id = outcome.stdout.strip()
    assert outcome.exit_code == 0
    assert new_id != finished
    drain_all()
    document = durable("status", new_id).json()
    assert document["name"] == "echo_orchestrator"
    assert document["input"] == {"order": 42}
    assert document["output"] == {"order": 42}
    assert Instance.objects.get(pk=new_id).version == "v2"


@pytest.mark.django_db
def test_restart_of_a_running_instance_under_its_id_exits_2_and_changes_nothing():
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()
    before = stored_rows()

    outcome = durable("restart", "approval-1")

    assert outcome.exit_code == 2
    assert "only a finished instance can be restarted under the same id" in outcome.stderr
    assert stored_rows() == before


@pytest.mark.django_db
def test_restart_of_a_running_instance_with_new_id_starts_a_second_one():
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()

    new_id = durable("restart", "approval-1", "--new-id").stdout.strip()

    assert Instance.objects.get(pk="approval-1").runtime_status == "Running"
    assert Instance.objects.get(pk=new_id).name == "wait_for_approval"


@pytest.mark.django_db
def test_restart_of_an_unknown_instance_exits_2():
    outcome = durable("restart", "nobody")

    assert outcome.exit_code == 2
    assert "no instance with id 'nobody'" in outcome.stderr
