"""services.restart: running an orchestration again with its original input."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import run_to_end

pytestmark = pytest.mark.django_db


def test_restarting_a_finished_instance_under_its_id_runs_it_again_with_the_same_input():
    first = run_to_end("echo_orchestrator", {"order": 1}, instance_id="order", version="3")

    restarted_id = services.restart("order")
    assert restarted_id == "order"
    assert services.get("order").runtime_status == "Pending"
    assert not HistoryRow.objects.filter(instance_id="order").exists()
    drain_all()

    again = services.get("order")
    assert again.runtime_status == "Completed"
    assert json.loads(again.input) == {"order": 1}
    assert json.loads(again.output) == {"order": 1}
    assert again.version == "3"
    assert again.execution_id != first.execution_id
    assert again.created_at > first.created_at


def test_restarting_a_failed_instance_under_its_id_is_allowed():
    failed = run_to_end("failing_orchestrator", "boom")

    services.restart(failed.pk)

    assert services.get(failed.pk).runtime_status == "Pending"


def test_restarting_a_running_instance_under_its_id_is_refused():
    services.start("wait_for_approval", {"ticket": 5}, instance_id="waiting")
    drain_all()

    with pytest.raises(services.InvalidStateError, match="only a finished instance can be restarted"):
        services.restart("waiting")

    assert services.get("waiting").runtime_status == "Running"


def test_restarting_under_a_new_id_works_for_a_running_instance_and_keeps_the_input():
    services.start("wait_for_approval", {"ticket": 5}, instance_id="waiting")
    drain_all()

    new_id = services.restart("waiting", new_instance_id=True)

    assert new_id != "waiting"
    copy = services.get(new_id)
    assert (copy.name, json.loads(copy.input)) == ("wait_for_approval", {"ticket": 5})
    assert services.get("waiting").runtime_status == "Running"


def test_restarting_under_a_new_id_leaves_the_finished_original_alone():
    original = run_to_end("echo_orchestrator", "kept", instance_id="original")

    new_id = services.restart("original", new_instance_id=True)
    drain_all()

    assert services.get("original").execution_id == original.execution_id
    assert HistoryRow.objects.filter(instance_id="original").count() == original.history_length
    assert services.get(new_id).output == '"kept"'


def test_restarting_an_unknown_instance_is_refused():
    with pytest.raises(services.InstanceNotFoundError):
        services.restart("ghost")
