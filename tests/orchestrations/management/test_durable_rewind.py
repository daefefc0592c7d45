"""``durable rewind``: take a failed instance back to before its failure."""

from __future__ import annotations

import pytest

from functions.models import Invocation
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable, stored_rows


@pytest.mark.django_db
def test_rewind_runs_the_failed_activity_again():
    durable("start", "failing_orchestrator", "--id", "doomed", "--input", '"out of stock"')
    drain_all()
    assert Invocation.objects.filter(instance_id="doomed", function_name="fail").count() == 1

    outcome = durable("rewind", "doomed", "--reason", "stock replenished")

    assert outcome.exit_code == 0
    assert outcome.stdout == "Rewound instance 'doomed'.\n"
    assert durable("status", "doomed").json()["runtimeStatus"] == "Running"
    drain_all()
    assert Invocation.objects.filter(instance_id="doomed", function_name="fail").count() == 2
    document = durable("status", "doomed", "--history").json()
    assert "ExecutionRewound" in [event["EventType"] for event in document["historyEvents"]]


@pytest.mark.django_db
def test_rewind_of_an_instance_that_has_not_failed_exits_2_and_changes_nothing():
    durable("start", "wait_for_approval", "--id", "approval-1")
    drain_all()
    before = stored_rows()

    outcome = durable("rewind", "approval-1")

    assert outcome.exit_code == 2
    assert "only a failed instance can be rewound; 'approval-1' is Running" in outcome.stderr
    assert stored_rows() == before


@pytest.mark.django_db
def test_rewind_of_an_unknown_instance_exits_2():
    outcome = durable("rewind", "nobody")

    assert outcome.exit_code == 2
    assert "no instance with id 'nobody'" in outcome.stderr
