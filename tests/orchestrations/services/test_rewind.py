"""services.rewind: a failed instance runs its failed calls again and carries on."""

from __future__ import annotations

import json

import pytest

from functions.models import Invocation
from orchestrations import services
from orchestrations.models import HistoryRow
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import event_types, run_to_end

pytestmark = pytest.mark.django_db


def flaky(key: str) -> dict:
    return {"activity": "fail_first_time", "input": key}


@pytest.fixture
def failed_once():
    instance = run_to_end("call_activity_by_name", flaky("payment-1"), instance_id="flaky")
    assert instance.runtime_status == "Failed"
    assert "transient failure for payment-1" in instance.failure["message"]
    return instance


def test_a_rewound_instance_runs_the_failed_activity_again_and_completes(failed_once):
    services.rewind("flaky", "the bank is back")
    drain_all()

    instance = services.get("flaky")
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == "recovered payment-1"
    assert instance.failure is None
    runs = Invocation.objects.filter(instance_id="flaky").order_by("started_at", "pk")
    assert [run.status for run in runs] == ["Failed", "Completed"]


def test_rewinding_marks_the_instance_running_before_any_worker_runs(failed_once):
    services.rewind("flaky")

    instance = services.get("flaky")
    assert instance.runtime_status == "Running"
    assert (instance.output, instance.failure, instance.completed_at) == (None, None, None)
    assert "TaskFailed" not in event_types("flaky")
    assert "ExecutionCompleted" not in event_types("flaky")


def test_the_rewound_history_records_the_rewind_and_one_completion(failed_once):
    services.rewind("flaky", "retry it")
    drain_all()

    types = event_types("flaky")
    assert types.count("ExecutionRewound") == 1
    assert types.count("ExecutionCompleted") == 1
    assert types.count("TaskScheduled") == 1
    assert "TaskFailed" not in types
    rewound = HistoryRow.objects.get(instance_id="flaky", event_type="ExecutionRewound")
    assert json.loads(rewound.data) == "retry it"


def test_the_rewound_history_is_numbered_without_gaps(failed_once):
    services.rewind("flaky")
    drain_all()

    sequences = list(HistoryRow.objects.filter(instance_id="flaky").values_list("sequence", flat=True))
    assert sorted(sequences) == list(range(len(sequences)))
    assert services.get("flaky").history_length == len(sequences)


def test_rewinding_an_instance_that_has_not_failed_is_refused():
    completed = run_to_end("echo_orchestrator", 1)
    services.start("wait_for_approval", instance_id="running")
    drain_all()

    with pytest.raises(services.InvalidStateError, match="only a failed instance can be rewound"):
        services.rewind(completed.pk)
    with pytest.raises(services.InvalidStateError, match="'running' is Running"):
        services.rewind("running")

    assert services.get(completed.pk).runtime_status == "Completed"


def test_rewinding_an_unknown_instance_is_refused():
    with pytest.raises(services.InstanceNotFoundError):
        services.rewind("ghost")


def test_rewinding_a_parent_rewinds_its_failed_sub_orchestration():
    call = {"orchestrator": "call_activity_by_name", "input": flaky("payment-2"), "instance_id": "flaky-child"}
    parent = run_to_end("call_sub_orchestrator_by_name", call, instance_id="flaky-parent")
    assert parent.runtime_status == "Failed"
    assert services.get("flaky-child").runtime_status == "Failed"

    services.rewind("flaky-parent")
    assert services.get("flaky-child").runtime_status == "Running"
    drain_all()

    child = services.get("flaky-child")
    assert (child.runtime_status, json.loads(child.output)) == ("Completed", "recovered payment-2")
    parent = services.get("flaky-parent")
    assert (parent.runtime_status, json.loads(parent.output)) == ("Completed", "recovered payment-2")
    assert "SubOrchestrationInstanceFailed" not in event_types("flaky-parent")
    assert event_types("flaky-parent").count("SubOrchestrationInstanceCompleted") == 1


def test_rewinding_an_instance_that_failed_inside_a_critical_section_is_refused():
    import samples.counter  # noqa: F401  (registers the counter entity)

    failed = run_to_end("fail_inside_critical_section", ["@counter@a", "@counter@b"], instance_id="locked")
    assert failed.runtime_status == "Failed"
    history = event_types("locked")

    # Its locks went when it failed: a rewound replay would believe it still held them.
    with pytest.raises(services.InvalidStateError, match="failed inside a critical section"):
        services.rewind("locked")

    assert services.get("locked").runtime_status == "Failed"
    assert event_types("locked") == history


def test_an_instance_that_failed_after_leaving_its_critical_section_is_rewound():
    import samples.counter  # noqa: F401  (registers the counter entity)

    failed = run_to_end("fail_after_critical_section", ["@counter@a"], instance_id="left")
    assert failed.runtime_status == "Failed"

    services.rewind("left")
    drain_all()

    instance = services.get("left")
    assert (instance.runtime_status, json.loads(instance.output)) == (
        "Completed",
        "recovered after the critical section",
    )
