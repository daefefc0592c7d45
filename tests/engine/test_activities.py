"""Activities: scheduling, results, chaining and failures."""

from __future__ import annotations

from orchestrations.engine import OrchestrationStatus, TaskFailedError
from orchestrations.engine import events as ev
from orchestrations.engine.actions import ScheduleActivity
from tests.engine.builder import OrchestrationRun


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
    assert run.failure.error_type == "ValueError"
    assert "activity name must be a non-empty string" in run.failure.message


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
