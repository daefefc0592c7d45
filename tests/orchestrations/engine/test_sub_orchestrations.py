"""Sub-orchestrations: child ids, results, failures and retries."""

from __future__ import annotations

from datetime import timedelta

from orchestrations.engine import OrchestrationStatus, RetryOptions, TaskFailedError
from orchestrations.engine.actions import CreateSubOrchestration, CreateTimer
from tests.orchestrations.engine.builder import INSTANCE_ID, START, OrchestrationRun


def test_child_gets_a_deterministic_id_from_the_parent_id_and_sequence_number():
    def orchestrator(ctx):
        yield ctx.call_activity("Prepare")
        yield ctx.call_sub_orchestrator("ProcessItem", {"sku": "X1"})

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(0).run_episode()

    assert result.actions == [CreateSubOrchestration(1, "ProcessItem", f"{INSTANCE_ID}:1", '{"sku":"X1"}')]


def test_child_id_given_by_the_caller_is_used():
    def orchestrator(ctx):
        yield ctx.call_sub_orchestrator("ProcessItem", None, instance_id="item-7")

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [CreateSubOrchestration(0, "ProcessItem", "item-7")]


def test_child_runs_at_the_parents_version():
    def orchestrator(ctx):
        yield ctx.call_sub_orchestrator("ProcessItem")

    result = OrchestrationRun(orchestrator, version="2.1").run_episode()

    assert result.actions[0].version == "2.1"


def test_invalid_child_id_fails_the_parent():
    def orchestrator(ctx):
        yield ctx.call_sub_orchestrator("ProcessItem", instance_id="items/7")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.ids.InvalidInstanceIdError"
    assert "'/'" in run.failure.message


def test_child_output_is_returned_to_the_parent():
    def orchestrator(ctx):
        total = yield ctx.call_sub_orchestrator("PriceBasket", ["pen", "ink"])
        return {"total": total}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_sub_orchestration(0, 12.5).run_episode()

    assert run.output == {"total": 12.5}


def test_child_failure_raises_task_failed_error_in_the_parent():
    def orchestrator(ctx):
        try:
            yield ctx.call_sub_orchestrator("PriceBasket")
        except TaskFailedError as error:
            return {"type": error.details.error_type, "message": str(error)}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fail_sub_orchestration(0, LookupError("unknown sku")).run_episode()

    assert run.output == {
        "type": "LookupError",
        "message": "Sub-orchestration 'PriceBasket' failed: LookupError: unknown sku",
    }


def test_uncaught_child_failure_fails_the_parent():
    def orchestrator(ctx):
        yield ctx.call_sub_orchestrator("PriceBasket")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fail_sub_orchestration(0, LookupError("unknown sku")).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.failures.TaskFailedError"


def test_fan_out_to_children_gives_each_its_own_id():
    def orchestrator(ctx):
        return (yield ctx.task_all([ctx.call_sub_orchestrator("ProcessItem", n) for n in range(3)]))

    run = OrchestrationRun(orchestrator)
    first = run.run_episode()

    run.complete_sub_orchestration(0, "a").complete_sub_orchestration(1, "b").complete_sub_orchestration(2, "c")
    run.run_episode()

    assert [action.instance_id for action in first.actions] == [f"{INSTANCE_ID}:{n}" for n in range(3)]
    assert run.output == ["a", "b", "c"]


def test_failed_child_is_retried_after_the_retry_interval_under_the_given_id():
    def orchestrator(ctx):
        options = RetryOptions(first_retry_interval_in_milliseconds=2000, max_number_of_attempts=2)
        return (yield ctx.call_sub_orchestrator_with_retry("PriceBasket", options, "basket", "basket-1"))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    timer = run.fail_sub_orchestration(0, RuntimeError("busy")).run_episode()
    retry = run.fire_timer(1).run_episode()

    run.complete_sub_orchestration(2, 9.5).run_episode()

    assert timer.actions == [CreateTimer(1, START + timedelta(seconds=2))]
    assert retry.actions == [CreateSubOrchestration(2, "PriceBasket", "basket-1", '"basket"')]
    assert run.output == 9.5


def test_each_retried_child_gets_its_own_deterministic_id_when_none_is_given():
    def orchestrator(ctx):
        options = RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=2)
        yield ctx.call_sub_orchestrator_with_retry("PriceBasket", options)

    run = OrchestrationRun(orchestrator)
    first = run.run_episode()
    run.fail_sub_orchestration(0, RuntimeError("busy")).run_episode()

    retry = run.fire_timer(1).run_episode()

    assert first.actions[0].instance_id == f"{INSTANCE_ID}:0"
    assert retry.actions[0].instance_id == f"{INSTANCE_ID}:2"


def test_child_retries_exhausted_fail_the_parent_with_the_last_failure():
    def orchestrator(ctx):
        options = RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=2)
        yield ctx.call_sub_orchestrator_with_retry("PriceBasket", options)

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.fail_sub_orchestration(0, RuntimeError("first")).run_episode()
    run.fire_timer(1).run_episode()

    run.fail_sub_orchestration(2, RuntimeError("second")).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "RuntimeError: second" in run.failure.message


def test_child_sees_its_parent_instance_id():
    def child(ctx):
        yield ctx.call_activity("Work")
        return ctx.parent_instance_id

    run = OrchestrationRun(child, instance_id=f"{INSTANCE_ID}:0", parent_instance_id=INSTANCE_ID)
    run.run_episode()

    run.complete_activity(0).run_episode()

    assert run.output == INSTANCE_ID


def test_top_level_instance_has_no_parent():
    def orchestrator(ctx):
        return {"parent": ctx.parent_instance_id}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.output == {"parent": None}
