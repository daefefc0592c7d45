"""continue_as_new: restarting an instance with a new input, with or without its unread events."""

from __future__ import annotations

from orchestrations.engine import OrchestrationStatus
from tests.orchestrations.engine.builder import OrchestrationRun


def counter(ctx):
    count = ctx.get_input()
    yield ctx.call_activity("Tick", count)
    ctx.continue_as_new(count + 1)


def test_continue_as_new_ends_the_execution_with_the_next_input():
    run = OrchestrationRun(counter, 4)
    run.run_episode()

    result = run.complete_activity(0).run_episode()

    assert run.status == OrchestrationStatus.CONTINUED_AS_NEW
    assert result.completion.new_input == "5"
    assert result.completion.output is None
    assert result.actions == []


def test_continue_as_new_is_recorded_as_the_execution_completion():
    run = OrchestrationRun(counter, 4)
    run.run_episode()

    run.complete_activity(0).run_episode()

    assert run.history[-1].event_type == "ExecutionCompleted"
    assert run.history[-1].details["status"] == OrchestrationStatus.CONTINUED_AS_NEW


def test_yielding_after_continue_as_new_ends_the_execution():
    def orchestrator(ctx):
        ctx.continue_as_new("next")
        yield ctx.create_timer(ctx.current_utc_datetime)
        return "never reached"

    run = OrchestrationRun(orchestrator)

    result = run.run_episode()

    assert result.completion.status == OrchestrationStatus.CONTINUED_AS_NEW
    assert result.completion.new_input == '"next"'


def test_continue_as_new_from_a_plain_function():
    def orchestrator(ctx):
        ctx.continue_as_new({"page": 2})

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.completion.status == OrchestrationStatus.CONTINUED_AS_NEW
    assert result.completion.new_input == '{"page":2}'


def monitor(save_events: bool):
    def orchestrator(ctx):
        yield ctx.call_activity("Check")
        ctx.continue_as_new(None, save_events=save_events)

    return orchestrator


def test_unread_events_are_dropped_without_save_events():
    run = OrchestrationRun(monitor(save_events=False))
    run.run_episode()
    run.raise_event("Stop", "early").run_episode()

    result = run.complete_activity(0).raise_event("Stop", "late").run_episode()

    assert result.completion.carryover_events == []


def test_unread_events_are_carried_over_in_order_with_save_events():
    run = OrchestrationRun(monitor(save_events=True))
    run.run_episode()
    run.raise_event("Stop", "early").run_episode()

    result = run.complete_activity(0).raise_event("Stop", "late").run_episode()

    carried = result.completion.carryover_events
    assert [(event.event_type, event.name, event.data) for event in carried] == [
        ("EventRaised", "Stop", '"early"'),
        ("EventRaised", "Stop", '"late"'),
    ]


def test_events_already_read_are_not_carried_over():
    def orchestrator(ctx):
        yield ctx.wait_for_external_event("Config")
        ctx.continue_as_new(None, save_events=True)

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.raise_event("Config", 1).raise_event("Config", 2).run_episode()

    assert [event.data for event in result.completion.carryover_events] == ["2"]


def test_non_serializable_new_input_fails_the_instance():
    def orchestrator(ctx):
        ctx.continue_as_new(object())

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.message.startswith("the new input is not JSON-serializable")
