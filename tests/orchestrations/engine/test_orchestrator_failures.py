"""Orchestrator code that raises, returns what cannot be stored, or is not a generator."""

from __future__ import annotations

from orchestrations.engine import OrchestrationStatus
from orchestrations.engine.actions import ScheduleActivity
from tests.orchestrations.engine.builder import OrchestrationRun


class InventoryError(Exception):
    pass


def test_uncaught_exception_fails_the_instance_with_its_type_message_and_traceback():
    def reserve_stock(ctx):
        stock = yield ctx.call_activity("ReadStock")
        if stock < 1:
            raise InventoryError(f"out of stock: {stock} left")

    run = OrchestrationRun(reserve_stock)
    run.run_episode()

    result = run.complete_activity(0, 0).run_episode()

    assert result.completion.status == OrchestrationStatus.FAILED
    assert result.completion.output is None
    assert run.failure.error_type == "tests.orchestrations.engine.test_orchestrator_failures.InventoryError"
    assert run.failure.message == "out of stock: 0 left"
    assert "in reserve_stock" in run.failure.stack_trace
    assert 'raise InventoryError(f"out of stock: {stock} left")' in run.failure.stack_trace


def test_exception_before_the_first_yield_fails_the_first_episode():
    def orchestrator(ctx):
        order = ctx.get_input()
        yield ctx.call_activity("Ship", order["address"])

    run = OrchestrationRun(orchestrator, {"id": 1})

    result = run.run_episode()

    assert result.actions == []
    assert run.failure.error_type == "KeyError"
    assert run.failure.message == "'address'"


def test_failure_is_recorded_in_history():
    def orchestrator(ctx):
        yield ctx.call_activity("Work")
        raise RuntimeError("boom")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_activity(0).run_episode()

    completed = run.history[-1]
    assert completed.event_type == "ExecutionCompleted"
    assert completed.failure.error_type == "RuntimeError"
    assert completed.failure.message == "boom"


def test_calls_made_before_the_exception_in_the_same_episode_are_still_asked_for():
    def orchestrator(ctx):
        ctx.call_activity("Cleanup")
        raise RuntimeError("boom")
        yield

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [ScheduleActivity(0, "Cleanup")]
    assert result.completion.status == OrchestrationStatus.FAILED


def test_non_serializable_output_fails_with_a_clear_reason():
    def orchestrator(ctx):
        yield ctx.call_activity("Work")
        return {"when": ctx.current_utc_datetime}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_activity(0).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert run.failure.message.startswith("the orchestrator's output is not JSON-serializable")
    assert "datetime" in run.failure.message


def test_not_a_number_output_is_refused_as_it_is_not_json():
    def orchestrator(ctx):
        return float("nan")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "not JSON-serializable" in run.failure.message


def test_non_serializable_activity_input_fails_the_instance_naming_the_activity():
    def orchestrator(ctx):
        yield ctx.call_activity("Store", {"blob": b"\x00\x01"})

    run = OrchestrationRun(orchestrator)

    result = run.run_episode()

    assert result.actions == []
    assert run.failure.message.startswith("the input of activity 'Store' is not JSON-serializable")


def test_non_serializable_sub_orchestration_input_fails_the_instance():
    def orchestrator(ctx):
        yield ctx.call_sub_orchestrator("Child", object())

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.failure.message.startswith("the input of sub-orchestration 'Child' is not JSON-serializable")


def test_yielding_something_that_is_not_a_task_fails_the_instance():
    def orchestrator(ctx):
        yield ctx.call_activity("Work")
        yield 42

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_activity(0).run_episode()

    assert run.failure.error_type == "TypeError"
    assert run.failure.message.startswith("an orchestrator may only yield durable tasks, not int")


def test_task_all_of_something_that_is_not_a_task_fails_the_instance():
    def orchestrator(ctx):
        yield ctx.task_all([ctx.call_activity("Work"), "not a task"])

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.failure.message == "task_all and task_any take tasks, not str"


def test_a_finally_block_cannot_make_durable_calls_once_the_instance_has_failed():
    def orchestrator(ctx):
        try:
            yield ctx.call_activity("Work")
            yield "oops"
        finally:
            ctx.call_activity("Cleanup")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(0).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert result.actions == []


def test_plain_function_orchestrator_completes_with_its_return_value():
    def orchestrator(ctx):
        return {"greeting": f"hello {ctx.get_input()}"}

    run = OrchestrationRun(orchestrator, "world")

    result = run.run_episode()

    assert result.actions == []
    assert run.output == {"greeting": "hello world"}


def test_plain_function_orchestrator_that_raises_fails_the_instance():
    def orchestrator(ctx):
        raise PermissionError("not allowed")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.failure.error_type == "PermissionError"
    assert run.failure.message == "not allowed"
    assert "PermissionError: not allowed" in run.failure.stack_trace


def test_plain_function_may_fire_and_forget_durable_calls():
    def orchestrator(ctx):
        ctx.send_event("audit-log", "Started")
        ctx.call_activity("Notify")
        return "fired"

    result = OrchestrationRun(orchestrator).run_episode()

    assert [action.task_id for action in result.actions] == [0, 1]
    assert result.completion.status == OrchestrationStatus.COMPLETED


def test_orchestrator_returning_none_completes_without_output():
    def orchestrator(ctx):
        yield ctx.call_activity("Work")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(0, "ignored").run_episode()

    assert result.completion.status == OrchestrationStatus.COMPLETED
    assert result.completion.output is None
