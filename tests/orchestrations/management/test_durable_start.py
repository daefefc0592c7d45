"""``durable start``: schedule an instance, optionally wait for it, refuse bad input."""

from __future__ import annotations

import pytest

from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable, stored_rows


@pytest.mark.django_db
def test_start_prints_the_new_instance_id_and_stores_the_input_and_version():
    outcome = durable("start", "echo_orchestrator", "--input", '{"order": 42}', "--version", "v2")

    assert outcome.exit_code == 0
    instance_id = outcome.stdout.strip()
    instance = Instance.objects.get(pk=instance_id)
    assert instance.name == "echo_orchestrator"
    assert instance.version == "v2"
    drain_all()
    assert services.get(instance_id).runtime_status == "Completed"
    assert durable("status", instance_id).json()["output"] == {"order": 42}


@pytest.mark.django_db
def test_start_without_input_passes_none():
    instance_id = durable("start", "echo_orchestrator").stdout.strip()
    drain_all()

    document = durable("status", instance_id).json()

    assert document["input"] is None
    assert document["output"] is None
    assert document["runtimeStatus"] == "Completed"


@pytest.mark.django_db
def test_start_with_an_id_uses_it():
    outcome = durable("start", "echo_orchestrator", "--id", "order-42", "--input", "1")

    assert outcome.stdout == "order-42\n"
    assert Instance.objects.filter(pk="order-42").exists()


@pytest.mark.django_db
def test_start_with_the_id_of_a_finished_instance_replaces_it():
    durable("start", "echo_orchestrator", "--id", "order-42", "--input", '"first"')
    drain_all()

    outcome = durable("start", "echo_orchestrator", "--id", "order-42", "--input", '"second"')
    drain_all()

    assert outcome.exit_code == 0
    assert durable("status", "order-42").json()["output"] == "second"
    replaced = AuditLogEntry.objects.get(action="replace", target_id="order-42")
    assert (replaced.source, replaced.details["replaced_status"]) == ("cli", "Completed")


@pytest.mark.django_db
def test_start_of_an_unknown_orchestrator_exits_2_and_creates_nothing():
    outcome = durable("start", "no_such_orchestrator")

    assert outcome.exit_code == 2
    assert "no orchestrator named 'no_such_orchestrator'" in outcome.stderr
    assert not Instance.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("malformed", ["{order: 42}", "[1, 2", "", "undefined"])
def test_start_with_malformed_input_json_exits_2_and_creates_nothing(malformed):
    outcome = durable("start", "echo_orchestrator", "--input", malformed)

    assert outcome.exit_code == 2
    assert "--input is not valid JSON" in outcome.stderr
    assert not Instance.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("instance_id", "reason"),
    [
        ("a/b", "may not contain '/'"),
        ("@x", "may not start with '@'"),
        ("x" * 300, "at most 256 characters"),
    ],
)
def test_start_with_an_invalid_id_exits_2_and_creates_nothing(instance_id, reason):
    outcome = durable("start", "echo_orchestrator", "--id", instance_id)

    assert outcome.exit_code == 2
    assert "invalid instance id" in outcome.stderr
    assert reason in outcome.stderr
    assert not Instance.objects.exists()


@pytest.mark.django_db
def test_start_with_the_id_of_a_running_instance_exits_2_and_leaves_it_alone():
    durable("start", "wait_for_approval", "--id", "approval-1", "--input", '"original"')
    drain_all()
    before = stored_rows()

    outcome = durable("start", "echo_orchestrator", "--id", "approval-1", "--input", '"replacement"')

    assert outcome.exit_code == 2
    assert "'approval-1' already exists and is not finished" in outcome.stderr
    assert stored_rows() == before


@pytest.mark.django_db
def test_start_with_a_negative_wait_is_a_usage_error():
    outcome = durable("start", "echo_orchestrator", "--wait", "-1")

    assert outcome.exit_code == 2
    assert "argument --wait" in outcome.stderr
    assert not Instance.objects.exists()


@pytest.mark.django_db
def test_wait_that_runs_out_prints_the_status_and_exits_1():
    # No workers run here, so the instance cannot finish within the wait.
    outcome = durable("start", "wait_for_approval", "--wait", "0.2")

    assert outcome.exit_code == 1
    document = outcome.json()
    assert document["name"] == "wait_for_approval"
    assert document["runtimeStatus"] == "Pending"
    assert f"instance {document['instanceId']!r} is still Pending after waiting 0.2s" in outcome.stderr


@pytest.mark.slow
def test_start_and_wait_prints_the_completed_status(workers):
    outcome = durable("start", "hello_sequence", "--wait", "30")

    assert outcome.exit_code == 0, outcome.stderr
    document = outcome.json()
    assert document["runtimeStatus"] == "Completed"
    assert document["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


@pytest.mark.slow
def test_start_and_wait_for_an_instance_that_fails_exits_1(workers):
    outcome = durable("start", "failing_orchestrator", "--input", '"out of stock"', "--wait", "30")

    assert outcome.exit_code == 1
    document = outcome.json()
    assert document["runtimeStatus"] == "Failed"
    assert "out of stock" in document["output"]
    assert "ended Failed" in outcome.stderr


@pytest.mark.slow
def test_wait_that_runs_out_on_a_running_instance_exits_1(workers):
    # Once the workers have run one instance they are up, and pick the next one up at once.
    assert durable("start", "echo_orchestrator", "--wait", "30").exit_code == 0

    outcome = durable("start", "wait_for_approval", "--wait", "2")

    assert outcome.exit_code == 1
    assert outcome.json()["runtimeStatus"] == "Running"
    assert "is still Running after waiting 2s" in outcome.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "command",
    [
        ["start", "echo_orchestrator"],
        ["raise-event", "x", "approval"],
        ["terminate", "x"],
        ["purge", "x"],
        ["apikey", "create", "--role", "admin"],
        ["entity", "signal", "counter", "k", "add"],
    ],
)
def test_a_read_only_deployment_refuses_every_change_from_the_cli_too(settings, command):
    settings.PERDURA_READ_ONLY = True
    before = stored_rows()

    outcome = durable(*command)

    assert outcome.exit_code == 2
    assert "PERDURA_READ_ONLY is set" in outcome.stderr
    assert stored_rows() == before
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_a_read_only_deployment_still_answers_readings_from_the_cli(settings):
    settings.PERDURA_READ_ONLY = True

    assert durable("list").exit_code == 0
    assert durable("apikey", "list").exit_code == 0
