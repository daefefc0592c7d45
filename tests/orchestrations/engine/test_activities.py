"""Activities: scheduling, results, chaining and failures."""

from __future__ import annotations

import pytest

from orchestrations.engine import EntityId, OrchestrationStatus, TaskFailedError
from orchestrations.engine import events as ev
from orchestrations.engine.actions import ScheduleActivity
from tests.orchestrations.engine.builder import OrchestrationRun


def hello_sequence(ctx):
    first = yield ctx.call_activity("SayHello", "Tokyo")
    second = yield ctx.call_activity("SayHello", "Seattle")
    third = yield ctx.call_activity("SayHello", "London")
    return [first, second, third]


def test_first_episode_schedules_the_first_activity_with_its_input_as_json():
    run = OrchestrationRun(hello_sequence)

    result = run.run_episode()

    assert result.actions == [ScheduleActivity(0, "SayHello", '"Tokyo"')]
    assert result.completion is None


def test_activity_result_is_sent_back_into_the_orchestrator():
    def orchestrator(ctx):
        greeting = yield ctx.call_activity("SayHello", "Tokyo")
        return greeting.upper()

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_activity(0, "Hello Tokyo!").run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.output == "HELLO TOKYO!"


def test_chained_activities_are_scheduled_one_per_episode_with_increasing_sequence_numbers():
    run = OrchestrationRun(hello_sequence)
    run.run_episode()

    second = run.complete_activity(0, "Hello Tokyo!").run_episode()
    third = run.complete_activity(1, "Hello Seattle!").run_episode()
    last = run.complete_activity(2, "Hello London!").run_episode()

    assert second.actions == [ScheduleActivity(1, "SayHello", '"Seattle"')]
    assert third.actions == [ScheduleActivity(2, "SayHello", '"London"')]
    assert last.actions == []
    assert run.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_orchestrator_input_is_read_with_get_input():
    def orchestrator(ctx):
        order = ctx.get_input()
        total = yield ctx.call_activity("PriceOrder", order["items"])
        return {"order": order["id"], "total": total}

    run = OrchestrationRun(orchestrator, {"id": 7, "items": ["pen", "ink"]})

    first = run.run_episode()
    run.complete_activity(0, 12.5).run_episode()

    assert first.actions == [ScheduleActivity(0, "PriceOrder", '["pen","ink"]')]
    assert run.output == {"order": 7, "total": 12.5}


def test_activity_without_input_or_result_passes_none():
    def orchestrator(ctx):
        result = yield ctx.call_activity("Ping")
        return {"result": result}

    run = OrchestrationRun(orchestrator)
    first = run.run_episode()
    run.complete_activity(0).run_episode()

    assert first.actions == [ScheduleActivity(0, "Ping", None)]
    assert run.output == {"result": None}


def test_calls_made_before_yielding_are_all_scheduled_in_the_same_episode():
    def orchestrator(ctx):
        first = ctx.call_activity("A")
        second = ctx.call_activity("B")
        return [(yield first), (yield second)]

    run = OrchestrationRun(orchestrator)

    result = run.run_episode()

    assert result.actions == [ScheduleActivity(0, "A"), ScheduleActivity(1, "B")]


def test_activity_failure_raises_task_failed_error_in_orchestrator():
    seen = {}

    def orchestrator(ctx):
        try:
            yield ctx.call_activity("Charge", 100)
        except TaskFailedError as error:
            seen["error"] = error
            return "refunded"

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fail_activity(0, ValueError("card declined")).run_episode()

    error = seen["error"]
    assert error.details.error_type == "ValueError"
    assert error.details.message == "card declined"
    assert "Activity 'Charge' failed: ValueError: card declined" in str(error)
    assert run.output == "refunded"


def test_orchestrator_can_go_on_calling_activities_after_catching_a_failure():
    def orchestrator(ctx):
        try:
            yield ctx.call_activity("Charge")
        except TaskFailedError:
            yield ctx.call_activity("NotifyCustomer", "declined")
        return "handled"

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    second = run.fail_activity(0, RuntimeError("timeout")).run_episode()
    run.complete_activity(1).run_episode()

    assert second.actions == [ScheduleActivity(1, "NotifyCustomer", '"declined"')]
    assert run.output == "handled"


def test_uncaught_activity_failure_fails_the_instance_with_task_failed_error():
    run = OrchestrationRun(hello_sequence)
    run.run_episode()

    run.fail_activity(0, KeyError("city")).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.failures.TaskFailedError"
    assert "Activity 'SayHello' failed: KeyError" in run.failure.message


def test_completion_for_a_task_the_orchestrator_never_scheduled_is_ignored():
    run = OrchestrationRun(hello_sequence)
    run.run_episode()

    result = run.complete_activity(99, "stray").run_episode()

    assert result.actions == []
    assert result.completion is None


def test_empty_activity_name_fails_the_instance():
    def orchestrator(ctx):
        yield ctx.call_activity("")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    # A LimitError, which is a ValueError: code that catches ValueError still catches it.
    assert run.failure.error_type == "orchestrations.engine.limits.LimitError"
    assert "activity name must be a non-empty string" in run.failure.message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ctx: ctx.call_activity("a" * 201), "an activity name may have at most 200 characters"),
        (lambda ctx: ctx.call_activity("say\x00hello"), "may not contain control characters (0x00)"),
        (lambda ctx: ctx.call_sub_orchestrator("o" * 201), "an orchestrator name may have at most 200"),
        (lambda ctx: ctx.wait_for_external_event("e" * 301), "an event name may have at most 300"),
        (lambda ctx: ctx.send_event("other", "e" * 301), "an event name may have at most 300"),
        (lambda ctx: ctx.call_entity(EntityId("counter", "k"), "o" * 301), "an operation name may have at most 300"),
        (lambda ctx: ctx.call_entity(EntityId("counter", "k" * 250), "add"), "at most 256 characters"),
        (lambda ctx: ctx.request_approval("n" * 201), "an approval name may have at most 200"),
        (lambda ctx: ctx.request_approval("ship", title="t" * 501), "may have at most 500"),
        (lambda ctx: ctx.request_approval("ship", assignees=["g" * 201]), "a group assigned approval"),
    ],
)
def test_a_call_whose_names_could_not_be_stored_fails_in_the_orchestrator(call, message):
    def orchestrator(ctx):
        yield call(ctx)

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert message in run.failure.message
    assert run.last.actions == []


def test_a_sub_orchestration_id_derived_from_a_long_parent_id_is_checked():
    def orchestrator(ctx):
        yield ctx.call_sub_orchestrator("child")

    run = OrchestrationRun(orchestrator, instance_id="p" * 255)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "an instance id may have at most 256 characters" in run.failure.message


def test_history_of_a_completed_run_ends_with_execution_completed():
    run = OrchestrationRun(hello_sequence)
    run.run_episode()
    run.complete_activity(0, "a").run_episode()
    run.complete_activity(1, "b").run_episode()
    run.complete_activity(2, "c").run_episode()

    last_event = run.history[-1]

    assert last_event.event_type == "ExecutionCompleted"
    assert last_event.details["status"] == OrchestrationStatus.COMPLETED
    assert last_event.data == '["a","b","c"]'


def test_an_activity_result_that_is_not_json_fails_the_call_not_the_episode():
    def orchestrator(ctx):
        try:
            yield ctx.call_activity("say_hello", "Tokyo")
        except TaskFailedError as error:
            return error.details.error_type
        return "not caught"

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.add(ev.task_completed(run.now, 0, "{not json")).run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.output == "MalformedResult"
