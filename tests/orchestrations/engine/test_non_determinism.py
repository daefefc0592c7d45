"""Non-determinism: code whose calls no longer match its history fails the instance, saying where."""

from __future__ import annotations

from datetime import timedelta

from orchestrations.engine import OrchestrationStatus
from orchestrations.engine.actions import ScheduleActivity
from tests.orchestrations.engine.builder import OrchestrationRun


def approve_then_ship(ctx):
    yield ctx.call_activity("Approve")
    yield ctx.call_activity("Ship")
    return "shipped"


def started_with(orchestrator) -> OrchestrationRun:
    """A run whose first call (sequence number 0) is in history and waits for its result."""
    run = OrchestrationRun(orchestrator)
    run.run_episode()
    return run


def test_changed_activity_name_fails_with_both_calls_named():
    def renamed(ctx):
        yield ctx.call_activity("Authorize")
        yield ctx.call_activity("Ship")

    run = started_with(approve_then_ship)
    run.orchestrator = renamed

    run.complete_activity(0).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.failures.NonDeterminismError"
    assert run.failure.message == (
        "Non-deterministic orchestrator: at sequence number 0 the history has call_activity('Approve'), "
        "but the code now calls call_activity('Authorize')"
    )


def test_activity_changed_into_a_timer_fails():
    def waits_instead(ctx):
        yield ctx.create_timer(timedelta(minutes=1))

    run = started_with(approve_then_ship)
    run.orchestrator = waits_instead

    run.complete_activity(0).run_episode()

    assert run.failure.message == (
        "Non-deterministic orchestrator: at sequence number 0 the history has call_activity('Approve'), "
        "but the code now calls create_timer()"
    )


def test_activity_changed_into_a_sub_orchestration_of_the_same_name_fails():
    def calls_a_child(ctx):
        yield ctx.call_sub_orchestrator("Approve")

    run = started_with(approve_then_ship)
    run.orchestrator = calls_a_child

    run.complete_activity(0).run_episode()

    assert run.failure.message.endswith(
        "the history has call_activity('Approve'), but the code now calls call_sub_orchestrator('Approve')"
    )


def test_changed_call_in_a_later_episode_names_its_sequence_number():
    def ships_differently(ctx):
        yield ctx.call_activity("Approve")
        yield ctx.call_activity("ShipExpress")

    run = started_with(approve_then_ship)
    run.complete_activity(0).run_episode()
    run.orchestrator = ships_differently

    run.complete_activity(1).run_episode()

    assert run.failure.message.startswith(
        "Non-deterministic orchestrator: at sequence number 1 the history has call_activity('Ship')"
    )


def test_removed_call_fails_saying_the_code_no_longer_makes_it():
    def both_checks(ctx):
        yield ctx.task_all([ctx.call_activity("CheckStock"), ctx.call_activity("CheckCredit")])

    def stock_check_only(ctx):
        yield ctx.call_activity("CheckStock")

    run = started_with(both_checks)
    run.orchestrator = stock_check_only

    run.complete_activity(0).run_episode()

    assert run.failure.message == (
        "Non-deterministic orchestrator: at sequence number 1 the history has call_activity('CheckCredit'), "
        "but the code no longer makes that call"
    )


def test_extra_call_before_an_episode_boundary_fails():
    def with_an_audit(ctx):
        yield ctx.task_all([ctx.call_activity("Approve"), ctx.call_activity("Audit")])
        yield ctx.call_activity("Ship")

    run = started_with(approve_then_ship)
    run.orchestrator = with_an_audit

    run.complete_activity(0).run_episode()

    assert run.failure.message == (
        "Non-deterministic orchestrator: the code now makes call_activity('Audit') at sequence number 1, "
        "but the history has no such call there"
    )


def test_finishing_early_fails_naming_the_call_history_goes_on_with():
    def approve_only(ctx):
        yield ctx.call_activity("Approve")
        return "approved"

    run = started_with(approve_then_ship)
    run.complete_activity(0).run_episode()
    run.orchestrator = approve_only

    run.complete_activity(1).run_episode()

    assert run.failure.message == (
        "Non-deterministic orchestrator: the code now finishes, but the history goes on with "
        "call_activity('Ship') at sequence number 1"
    )


def test_extra_call_on_the_way_out_of_a_finished_history_fails():
    def approve_and_notify(ctx):
        yield ctx.call_activity("Approve")
        ctx.send_event("warehouse", "Approved")
        return "approved"

    def approve_only(ctx):
        yield ctx.call_activity("Approve")
        return "approved"

    run = OrchestrationRun(approve_only)
    run.run_episode()
    run.complete_activity(0).run_episode()

    replayed = run.replay(approve_and_notify)

    assert replayed.completion.status == OrchestrationStatus.FAILED
    assert replayed.completion.failure.message == (
        "Non-deterministic orchestrator: the code now makes send_event('warehouse', 'Approved') at sequence "
        "number 1, but the history has no such call there"
    )


def test_divergence_asks_for_nothing_and_records_the_failure():
    def with_an_audit(ctx):
        yield ctx.task_all([ctx.call_activity("Approve"), ctx.call_activity("Audit")])
        yield ctx.call_activity("Ship")

    run = started_with(approve_then_ship)
    run.orchestrator = with_an_audit

    result = run.complete_activity(0).run_episode()

    assert result.actions == []
    assert [event.event_type for event in result.history] == ["OrchestratorStarted", "ExecutionCompleted"]
    assert result.history[-1].details["status"] == OrchestrationStatus.FAILED


def test_changed_activity_input_is_not_a_divergence():
    def new_input(ctx):
        yield ctx.call_activity("Approve", {"level": 2})
        yield ctx.call_activity("Ship")

    run = started_with(approve_then_ship)
    run.orchestrator = new_input

    result = run.complete_activity(0).run_episode()

    assert result.actions == [ScheduleActivity(1, "Ship")]


def test_reordered_parallel_calls_fail():
    def stock_then_credit(ctx):
        yield ctx.task_all([ctx.call_activity("CheckStock"), ctx.call_activity("CheckCredit")])

    def credit_then_stock(ctx):
        yield ctx.task_all([ctx.call_activity("CheckCredit"), ctx.call_activity("CheckStock")])

    run = started_with(stock_then_credit)
    run.orchestrator = credit_then_stock

    run.complete_activity(0).run_episode()

    assert "at sequence number 0 the history has call_activity('CheckStock')" in run.failure.message
