"""services.start: validation, instance ids, replacing finished instances, versions."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow, Instance, Message
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import event_types, run_to_end

pytestmark = pytest.mark.django_db


def nothing_stored() -> bool:
    return not Instance.objects.exists() and not Message.objects.exists() and not HistoryRow.objects.exists()


def test_start_stores_a_pending_instance_with_its_start_message():
    instance_id = services.start("echo_orchestrator", {"order": 7}, instance_id="order-7")

    instance = services.get(instance_id)
    assert instance_id == "order-7"
    assert instance.runtime_status == "Pending"
    assert json.loads(instance.input) == {"order": 7}
    assert instance.next_message_at is not None
    [message] = Message.objects.filter(instance_id=instance_id)
    assert message.event_type == "ExecutionStarted"
    assert message.event["name"] == "echo_orchestrator"


def test_start_without_an_id_generates_a_unique_one():
    first = services.start("echo_orchestrator", 1)
    second = services.start("echo_orchestrator", 2)

    assert first != second
    assert Instance.objects.filter(pk__in=[first, second]).count() == 2


def test_start_of_an_unknown_orchestrator_is_refused_naming_the_known_ones():
    with pytest.raises(services.BadInputError, match=r"no orchestrator named 'no_such_thing'.*echo_orchestrator"):
        services.start("no_such_thing", instance_id="x")

    assert nothing_stored()


@pytest.mark.parametrize(
    "instance_id",
    [
        "",
        "a" * 257,
        "@counter@1",
        "orders/1",
        "orders\\1",
        "order#1",
        "order?1",
        "order\n1",
        "order\x001",
        "order\x7f1",
    ],
    ids=[
        "empty",
        "257-chars",
        "starts-with-at",
        "slash",
        "backslash",
        "hash",
        "question-mark",
        "newline",
        "nul",
        "del",
    ],
)
def test_start_refuses_an_invalid_instance_id(instance_id):
    with pytest.raises(services.BadInputError, match="invalid instance id"):
        services.start("echo_orchestrator", instance_id=instance_id)

    assert nothing_stored()


def test_start_accepts_an_id_of_256_characters():
    instance_id = services.start("echo_orchestrator", instance_id="a" * 256)

    assert services.get(instance_id).runtime_status == "Pending"


def test_start_refuses_the_id_of_an_instance_that_has_not_finished_and_leaves_it_untouched():
    services.start("wait_for_approval", "first", instance_id="approval-1")
    drain_all()
    before = services.get("approval-1")
    history_before = event_types("approval-1")

    with pytest.raises(services.InstanceExistsError, match="approval-1"):
        services.start("echo_orchestrator", "second", instance_id="approval-1")

    after = services.get("approval-1")
    assert (after.name, after.input, after.execution_id, after.runtime_status) == (
        "wait_for_approval",
        '"first"',
        before.execution_id,
        "Running",
    )
    assert event_types("approval-1") == history_before
    assert not Message.objects.filter(instance_id="approval-1").exists()


def test_start_refuses_the_id_of_a_pending_instance():
    services.start("echo_orchestrator", "first", instance_id="twice")

    with pytest.raises(services.InstanceExistsError):
        services.start("echo_orchestrator", "second", instance_id="twice")

    assert Message.objects.filter(instance_id="twice").count() == 1
    assert services.get("twice").input == '"first"'


def test_start_with_the_id_of_a_finished_instance_replaces_it_with_a_fresh_history():
    first = run_to_end("echo_orchestrator", "first", instance_id="reused")
    assert first.runtime_status == "Completed"
    first_history = event_types("reused")

    services.start("echo_orchestrator", "second", instance_id="reused")

    replaced = services.get("reused")
    assert replaced.runtime_status == "Pending"
    assert replaced.execution_id != first.execution_id
    assert replaced.output is None and replaced.completed_at is None
    assert not HistoryRow.objects.filter(instance_id="reused").exists()
    drain_all()
    second = services.get("reused")
    assert (second.runtime_status, second.output) == ("Completed", '"second"')
    assert event_types("reused") == first_history
    assert set(HistoryRow.objects.filter(instance_id="reused").values_list("execution_id", flat=True)) == {
        second.execution_id
    }


def test_start_refuses_input_that_is_not_json_serializable_and_stores_nothing():
    with pytest.raises(services.BadInputError, match="the input is not JSON-serializable"):
        services.start("echo_orchestrator", {1, 2}, instance_id="set-input")

    assert nothing_stored()


def test_start_refuses_input_over_the_payload_limit_and_stores_nothing(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    with pytest.raises(services.BadInputError, match="over the limit of 1,024"):
        services.start("echo_orchestrator", "x" * 1100, instance_id="too-big")

    assert nothing_stored()


def test_start_accepts_input_at_the_payload_limit(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    instance = run_to_end("echo_orchestrator", "x" * 1022)  # 1,024 bytes with its quotes

    assert instance.runtime_status == "Completed"


def test_start_stores_the_version_and_the_orchestrator_sees_it():
    instance = run_to_end("echo_orchestrator", "v", instance_id="versioned", version="2.1")

    assert instance.version == "2.1"
    started = HistoryRow.objects.get(instance_id="versioned", event_type="ExecutionStarted")
    assert started.details["version"] == "2.1"
