"""Durable timers: fire times, firing, and cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrations.engine import OrchestrationStatus
from orchestrations.engine.actions import CreateTimer, ScheduleActivity
from tests.orchestrations.engine.builder import START, OrchestrationRun


def test_timer_with_a_timedelta_fires_relative_to_current_utc_datetime():
    def orchestrator(ctx):
        yield ctx.create_timer(timedelta(minutes=5))

    run = OrchestrationRun(orchestrator)
    run.advance(seconds=30)

    result = run.run_episode()

    assert result.actions == [CreateTimer(0, START + timedelta(seconds=30, minutes=5))]


def test_timer_at_a_datetime_computed_from_current_utc_datetime_keeps_that_fire_time():
    def orchestrator(ctx):
        deadline = ctx.current_utc_datetime + timedelta(days=1)
        yield ctx.create_timer(deadline)

    run = OrchestrationRun(orchestrator)

    result = run.run_episode()

    assert result.actions == [CreateTimer(0, START + timedelta(days=1))]
    assert result.history[-1].details["fire_at"] == "2025-01-02T12:00:00+00:00"


def test_orchestrator_waits_until_the_timer_fires():
    def orchestrator(ctx):
        yield ctx.create_timer(timedelta(hours=1))
        yield ctx.call_activity("SendReminder")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    waiting = run.advance(minutes=59).run_episode()
    fired = run.fire_timer(0).run_episode()

    assert waiting.actions == []
    assert fired.actions == [ScheduleActivity(1, "SendReminder")]


def test_fired_timer_yields_none():
    def orchestrator(ctx):
        return {"value": (yield ctx.create_timer(timedelta(seconds=1)))}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fire_timer(0).run_episode()

    assert run.output == {"value": None}


def test_current_utc_datetime_after_a_timer_is_the_time_it_fired():
    def orchestrator(ctx):
        yield ctx.create_timer(timedelta(hours=2))
        return ctx.current_utc_datetime.isoformat()

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fire_timer(0).run_episode()

    assert run.output == "2025-01-01T14:00:00+00:00"


def test_naive_datetime_fails_the_instance():
    def orchestrator(ctx):
        yield ctx.create_timer(datetime(2025, 1, 2))

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "ValueError"
    assert "aware datetime" in run.failure.message


def test_timer_of_a_number_fails_the_instance():
    def orchestrator(ctx):
        yield ctx.create_timer(60)

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.failure.error_type == "TypeError"
    assert "datetime or a timedelta, not int" in run.failure.message


def approval_with_timeout(ctx):
    timeout = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=24))
    approval = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([approval, timeout])
    if winner is timeout:
        return "escalated"
    timeout.cancel()
    yield ctx.call_activity("Ship")
    delivered = yield ctx.wait_for_external_event("Delivered")
    return {"delivered": delivered, "timeout_completed": timeout.is_completed}


def test_timeout_timer_wins_the_race_when_no_event_arrives():
    run = OrchestrationRun(approval_with_timeout)
    first = run.run_episode()

    run.fire_timer(0).run_episode()

    assert first.actions == [CreateTimer(0, datetime(2025, 1, 2, 12, 0, tzinfo=UTC))]
    assert run.output == "escalated"


def test_cancelled_timer_firing_later_neither_resumes_the_orchestrator_nor_completes():
    run = OrchestrationRun(approval_with_timeout)
    run.run_episode()
    shipped = run.raise_event("Approval", True).run_episode()
    run.complete_activity(1).run_episode()

    after_fire = run.fire_timer(0).run_episode()
    run.raise_event("Delivered", "signed").run_episode()

    assert shipped.actions == [ScheduleActivity(1, "Ship")]
    assert after_fire.actions == []
    assert after_fire.completion is None
    assert run.output == {"delivered": "signed", "timeout_completed": False}


def test_orchestrator_goes_on_after_cancelling_a_timer():
    run = OrchestrationRun(approval_with_timeout)
    run.run_episode()
    run.raise_event("Approval", True).run_episode()
    run.complete_activity(1).run_episode()

    run.raise_event("Delivered", "signed by J. Doe").run_episode()

    assert run.output["delivered"] == "signed by J. Doe"


def test_cancelling_a_timer_that_has_fired_fails_with_value_error():
    def orchestrator(ctx):
        timer = ctx.create_timer(timedelta(seconds=10))
        yield timer
        timer.cancel()

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fire_timer(0).run_episode()

    assert run.failure.error_type == "ValueError"
    assert "cannot be cancelled" in run.failure.message


def test_timer_fire_time_may_change_on_replay_without_a_non_determinism_error():
    def orchestrator(ctx):
        yield ctx.create_timer(timedelta(minutes=5))
        return "done"

    def orchestrator_with_a_longer_timer(ctx):
        yield ctx.create_timer(timedelta(minutes=10))
        return "done"

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.orchestrator = orchestrator_with_a_longer_timer

    run.fire_timer(0).run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
