"""plan_rewind: what a rewind forgets of a failed history and which calls it makes again,
worked out from the history alone, with no database."""

from __future__ import annotations

import pytest

from orchestrations.engine import EntityId, OrchestrationStatus
from orchestrations.engine.events import EventType
from orchestrations.engine.rewind import OpenActivity, OpenTimer, RewindRefusedError, plan_rewind
from tests.orchestrations.engine.builder import OrchestrationRun


def chain(ctx):
    first = yield ctx.call_activity("first")
    second = yield ctx.call_activity("second", first)
    return second


def test_a_failed_call_and_the_completion_are_forgotten_and_the_call_is_made_again():
    run = OrchestrationRun(chain)
    run.run_episode()
    run.complete_activity(0, "one").run_episode()
    run.fail_activity(1, RuntimeError("down")).run_episode()
    assert run.status == OrchestrationStatus.FAILED

    plan = plan_rewind(run.history)

    forgotten = {run.history[position].event_type for position in plan.forgotten}
    assert forgotten == {EventType.TASK_FAILED, EventType.EXECUTION_COMPLETED}
    assert plan.activities == [OpenActivity(1, "second", '"one"')]
    assert (plan.timers, plan.sub_orchestrations) == ([], [])


def test_calls_still_open_when_it_failed_are_made_again_and_answered_ones_are_not():
    def fan_out(ctx):
        timer = ctx.create_timer(ctx.current_utc_datetime.replace(year=2030))
        results = yield ctx.task_all([ctx.call_activity("a"), ctx.call_activity("b"), ctx.call_activity("c")])
        timer.cancel()
        return results

    run = OrchestrationRun(fan_out)
    run.run_episode()
    run.complete_activity(1, "a").fail_activity(2, RuntimeError("b broke")).run_episode()

    plan = plan_rewind(run.history)

    assert [call.task_id for call in plan.activities] == [2, 3]
    assert [timer.task_id for timer in plan.timers] == [0]
    assert isinstance(plan.timers[0], OpenTimer)


def test_what_the_orchestrator_did_after_the_failure_is_forgotten_too():
    def handles_then_fails(ctx):
        try:
            yield ctx.call_activity("risky")
        except Exception:
            yield ctx.call_activity("compensate")
            raise

    run = OrchestrationRun(handles_then_fails)
    run.run_episode()
    run.fail_activity(0, RuntimeError("no")).run_episode()
    run.fail_activity(1, RuntimeError("nor this")).run_episode()

    plan = plan_rewind(run.history)

    assert [call.name for call in plan.activities] == ["compensate"]
    assert EventType.TASK_SCHEDULED not in {run.history[p].event_type for p in plan.forgotten if p < 3}


def test_a_failure_inside_a_critical_section_is_refused():
    account = EntityId("account", "a")

    def locked(ctx):
        with (yield ctx.lock_entities(account)):
            yield ctx.call_activity("charge")

    run = OrchestrationRun(locked)
    run.run_episode()
    run.grant_lock(0).run_episode()
    run.fail_activity(1, RuntimeError("card declined")).run_episode()

    with pytest.raises(RewindRefusedError, match="failed inside a critical section"):
        plan_rewind(run.history)
