"""services.terminate: ending a running instance, and what its parent and late answers see."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow, Message, WorkItem
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import event_types, run_activities, run_orchestrations, run_to_end

pytestmark = pytest.mark.django_db


def test_terminating_a_running_instance_ends_it_with_the_reason_as_output():
    services.start("wait_for_approval", instance_id="stuck")
    drain_all()

    services.terminate("stuck", "nobody answered")
    drain_all()

    instance = services.get("stuck")
    assert instance.runtime_status == "Terminated"
    assert json.loads(instance.output) == "nobody answered"
    assert instance.completed_at is not None
    assert event_types("stuck")[-2:] == ["ExecutionTerminated", "ExecutionCompleted"]
    completed = HistoryRow.objects.get(instance_id="stuck", event_type="ExecutionCompleted")
    assert completed.details["status"] == "Terminated"


def test_terminating_a_pending_instance_ends_it_before_it_runs():
    instance_id = services.start("echo_orchestrator", 1)
    services.terminate(instance_id)
    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Terminated"
    assert "TaskScheduled" not in event_types(instance_id)
    assert not WorkItem.objects.exists()
    assert not Message.objects.exists()


def test_terminating_a_finished_instance_is_refused():
    finished = run_to_end("echo_orchestrator", 1)

    with pytest.raises(services.InstanceFinishedError):
        services.terminate(finished.pk, "too late")

    assert services.get(finished.pk).runtime_status == "Completed"


def test_terminating_an_unknown_instance_is_refused():
    with pytest.raises(services.InstanceNotFoundError):
        services.terminate("ghost")


def test_the_result_of_an_activity_finishing_after_termination_is_dropped():
    instance_id = services.start("echo_orchestrator", "late")
    run_orchestrations()
    services.terminate(instance_id)
    run_orchestrations()
    assert WorkItem.objects.filter(instance_id=instance_id).exists()

    run_activities()
    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Terminated"
    assert not Message.objects.exists()
    assert "TaskCompleted" not in event_types(instance_id)


def test_a_terminated_sub_orchestration_fails_its_parent():
    services.start(
        "call_sub_orchestrator_by_name",
        {"orchestrator": "wait_for_approval", "instance_id": "child"},
        instance_id="parent",
    )
    drain_all()

    services.terminate("child", "cancelled by ops")
    drain_all()

    assert services.get("child").runtime_status == "Terminated"
    parent = services.get("parent")
    assert parent.runtime_status == "Failed"
    assert "the sub-orchestration was terminated: cancelled by ops" in parent.failure["message"]
    failed = HistoryRow.objects.get(instance_id="parent", event_type="SubOrchestrationInstanceFailed")
    assert failed.details["failure"]["error_type"] == "Terminated"
