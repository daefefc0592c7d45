"""Sub-orchestrations: the child instance row, and completion and failure reaching the parent."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow, Instance
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import event_types, run_orchestrations, run_to_end

pytestmark = pytest.mark.django_db


def call_child(orchestrator: str, input=None, instance_id: str | None = None) -> dict:
    return {"orchestrator": orchestrator, "input": input, "instance_id": instance_id}


def test_a_sub_orchestration_gets_its_own_row_pointing_at_its_parent():
    services.start("call_sub_orchestrator_by_name", call_child("echo_orchestrator", "hi"), instance_id="parent")
    run_orchestrations()

    child = services.get("parent:0")
    assert (child.name, child.input) == ("echo_orchestrator", '"hi"')
    assert (child.parent_instance_id, child.parent_task_id) == ("parent", 0)
    created = HistoryRow.objects.get(instance_id="parent", event_type="SubOrchestrationInstanceCreated")
    assert created.details["instance_id"] == "parent:0"


def test_a_sub_orchestration_can_be_given_its_instance_id():
    run_to_end("call_sub_orchestrator_by_name", call_child("echo_orchestrator", 1, "chosen-child"), instance_id="p")

    assert services.get("chosen-child").parent_instance_id == "p"


def test_a_completed_sub_orchestration_returns_its_output_to_the_parent():
    parent = run_to_end("call_sub_orchestrator_by_name", call_child("echo_orchestrator", {"a": 1}))

    child = Instance.objects.get(parent_instance_id=parent.pk)
    assert child.runtime_status == "Completed"
    assert parent.runtime_status == "Completed"
    assert json.loads(parent.output) == {"a": 1}
    assert "SubOrchestrationInstanceCompleted" in event_types(parent.pk)


def test_a_failed_sub_orchestration_fails_the_parent_with_the_child_failure():
    parent = run_to_end("call_sub_orchestrator_by_name", call_child("failing_orchestrator", "child broke"))

    child = Instance.objects.get(parent_instance_id=parent.pk)
    assert child.runtime_status == "Failed"
    assert parent.runtime_status == "Failed"
    assert "Sub-orchestration 'failing_orchestrator' failed" in parent.failure["message"]
    assert "child broke" in parent.failure["message"]
    failed = HistoryRow.objects.get(instance_id=parent.pk, event_type="SubOrchestrationInstanceFailed")
    assert failed.details["failure"] == child.failure


def test_calling_an_unknown_sub_orchestrator_fails_the_call_and_creates_no_child():
    parent = run_to_end("call_sub_orchestrator_by_name", call_child("no_such_orchestrator"))

    assert parent.runtime_status == "Failed"
    assert "no orchestrator named 'no_such_orchestrator' is registered" in parent.failure["message"]
    assert Instance.objects.count() == 1


def test_calling_a_sub_orchestrator_with_the_id_of_a_running_instance_fails_the_call():
    services.start("wait_for_approval", instance_id="busy")
    parent = run_to_end("call_sub_orchestrator_by_name", call_child("echo_orchestrator", 1, "busy"))

    assert parent.runtime_status == "Failed"
    assert "an instance with id 'busy' already exists and is not finished" in parent.failure["message"]
    busy = services.get("busy")
    assert (busy.name, busy.runtime_status, busy.parent_instance_id) == ("wait_for_approval", "Running", None)


def test_a_sub_orchestration_may_reuse_the_id_of_a_finished_instance():
    run_to_end("echo_orchestrator", "old", instance_id="done-before")

    parent = run_to_end("call_sub_orchestrator_by_name", call_child("echo_orchestrator", "new", "done-before"))

    assert parent.runtime_status == "Completed"
    assert json.loads(parent.output) == "new"
    assert services.get("done-before").parent_instance_id == parent.pk


def test_a_parent_waits_while_its_child_waits():
    services.start("call_sub_orchestrator_by_name", call_child("wait_for_approval"), instance_id="waiting-parent")
    drain_all()
    assert services.get("waiting-parent").runtime_status == "Running"
    assert services.get("waiting-parent:0").runtime_status == "Running"

    services.raise_event("waiting-parent:0", "approval", "yes")
    drain_all()

    assert services.get("waiting-parent:0").runtime_status == "Completed"
    parent = services.get("waiting-parent")
    assert (parent.runtime_status, parent.output) == ("Completed", '"yes"')


def test_a_sub_orchestration_inherits_the_parent_version():
    parent = run_to_end("call_sub_orchestrator_by_name", call_child("echo_orchestrator", 1), version="2")

    assert Instance.objects.get(parent_instance_id=parent.pk).version == "2"
