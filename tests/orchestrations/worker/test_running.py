"""Running orchestrations through the workers: activities, failures, outputs, history."""

from __future__ import annotations

import json

import pytest

from functions.models import Invocation
from orchestrations import services
from orchestrations.models import HistoryRow, WorkItem
from orchestrations.worker.loop import worker_id
from tests.orchestrations.helpers import event_types, run_orchestrations, run_to_end

pytestmark = pytest.mark.django_db


def test_a_chain_of_activities_completes_with_the_orchestrator_output():
    instance = run_to_end("echo_each", ["Tokyo", "Seattle", "London"])

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == ["Tokyo", "Seattle", "London"]
    assert instance.completed_at is not None
    assert instance.lease_owner is None and instance.next_message_at is None
    assert event_types(instance.pk).count("TaskScheduled") == 3
    assert event_types(instance.pk).count("TaskCompleted") == 3
    assert event_types(instance.pk)[-1] == "ExecutionCompleted"


def test_an_instance_is_running_while_its_activity_waits():
    instance_id = services.start("echo_orchestrator", "hi")
    run_orchestrations()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Running"
    [item] = WorkItem.objects.filter(instance_id=instance_id)
    assert (item.name, item.input, item.execution_id) == ("echo", '"hi"', instance.execution_id)


def test_an_activity_failure_reaches_the_orchestrator_as_a_task_failed_error():
    instance = run_to_end("catch_activity_failure", "card declined")

    assert instance.runtime_status == "Completed"
    caught = json.loads(instance.output)
    assert caught["error_type"] == "ValueError"
    assert caught["message"] == "card declined"
    assert "Activity 'fail' failed: ValueError: card declined" in caught["error"]


def test_an_uncaught_activity_failure_fails_the_instance_with_its_details():
    instance = run_to_end("failing_orchestrator", "card declined")

    assert instance.runtime_status == "Failed"
    assert instance.output is None
    assert instance.failure["error_type"] == "orchestrations.engine.failures.TaskFailedError"
    assert "ValueError: card declined" in instance.failure["message"]
    assert "Traceback" in instance.failure["stack_trace"]
    assert "failing_orchestrator" in instance.failure["stack_trace"]
    completed = HistoryRow.objects.get(instance_id=instance.pk, event_type="ExecutionCompleted")
    assert completed.details["status"] == "Failed"
    assert completed.details["failure"] == instance.failure


def test_calling_an_unknown_activity_fails_the_call_naming_the_activity():
    instance = run_to_end("call_activity_by_name", {"activity": "no_such_activity"})

    assert instance.runtime_status == "Failed"
    assert "no activity named 'no_such_activity' is registered" in instance.failure["message"]
    assert not WorkItem.objects.exists()
    failed = HistoryRow.objects.get(instance_id=instance.pk, event_type="TaskFailed")
    assert failed.details["failure"]["error_type"] == "functions.registry.UnknownFunctionError"


def test_an_activity_result_that_is_not_json_fails_the_activity_and_the_instance():
    instance = run_to_end("call_activity_by_name", {"activity": "unserializable"})

    assert instance.runtime_status == "Failed"
    assert "the result of activity 'unserializable' is not JSON-serializable" in instance.failure["message"]
    execution = Invocation.objects.get(instance_id=instance.pk)
    assert execution.status == "Failed"
    assert execution.error_type == "orchestrations.engine.serialization.SerializationError"
    assert "not JSON-serializable" in execution.error_message


def test_an_activity_result_over_the_payload_limit_fails_the_activity(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    instance = run_to_end("call_activity_by_name", {"activity": "sized_text", "input": 2000})

    assert instance.runtime_status == "Failed"
    assert "the result of activity 'sized_text' is 2,002 bytes, over the limit of 1,024" in instance.failure["message"]


def test_an_orchestrator_output_that_is_not_json_fails_the_instance_saying_so():
    instance = run_to_end("unserializable_output")

    assert instance.runtime_status == "Failed"
    assert "the orchestrator's output is not JSON-serializable" in instance.failure["message"]
    assert instance.output is None


def test_an_orchestrator_output_over_the_payload_limit_fails_the_instance(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 800
    instance_id = services.start("repeat_text", 900)
    run_orchestrations()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Failed"
    assert "the orchestrator's output is 902 bytes, over the limit of 800" in instance.failure["message"]


def test_a_successful_activity_run_is_recorded_as_an_execution():
    instance = run_to_end("echo_orchestrator", {"n": 1})

    [execution] = Invocation.objects.filter(instance_id=instance.pk)
    assert execution.function_name == "echo"
    assert (execution.status, execution.attempt, execution.task_id) == ("Completed", 1, 0)
    assert execution.worker == worker_id()
    assert execution.started_at <= execution.ended_at
    assert json.loads(execution.input) == {"n": 1}
    assert json.loads(execution.output) == {"n": 1}
    assert execution.error_type == execution.error_message == execution.traceback == ""


def test_a_failed_activity_run_is_recorded_with_its_error_and_traceback():
    instance = run_to_end("failing_orchestrator", "out of stock")

    [execution] = Invocation.objects.filter(instance_id=instance.pk)
    assert execution.status == "Failed"
    assert (execution.error_type, execution.error_message) == ("ValueError", "out of stock")
    assert "Traceback" in execution.traceback and "raise ValueError(message)" in execution.traceback
    assert execution.output is None
    assert execution.ended_at is not None


def test_history_sequence_numbers_are_contiguous_and_unique():
    instance = run_to_end("echo_each", ["Tokyo", "Seattle", "London"])

    sequences = list(HistoryRow.objects.filter(instance_id=instance.pk).values_list("sequence", flat=True))
    assert sorted(sequences) == list(range(len(sequences)))
    assert instance.history_length == len(sequences)


def test_every_episode_starts_with_orchestrator_started():
    instance = run_to_end("echo_orchestrator", "x")

    assert event_types(instance.pk) == [
        "OrchestratorStarted",
        "ExecutionStarted",
        "TaskScheduled",
        "OrchestratorStarted",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
