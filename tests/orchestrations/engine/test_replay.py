"""Replay: running the code again over its own history reproduces it and asks for nothing new."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrations.engine import HistoryEvent, OrchestrationStatus, RetryOptions, execute
from orchestrations.engine import events as ev
from tests.orchestrations.engine.builder import START, OrchestrationRun


def chain(ctx):
    first = yield ctx.call_activity("A", ctx.get_input())
    second = yield ctx.call_activity("B", first)
    return second


def run_chain() -> OrchestrationRun:
    run = OrchestrationRun(chain, 1)
    run.run_episode()
    run.complete_activity(0, 2).run_episode()
    run.complete_activity(1, 3).run_episode()
    return run


def mixed(ctx):
    ctx.set_custom_status("fanning out")
    results = yield ctx.task_all([ctx.call_activity("Part", n) for n in range(2)])
    yield ctx.create_timer(timedelta(minutes=1))
    approval = yield ctx.wait_for_external_event("Approve")
    child = yield ctx.call_sub_orchestrator("Child", approval)
    retried = yield ctx.call_activity_with_retry("Flaky", RetryOptions(1000, 2))
    ctx.send_event("other", "Done", retried)
    ctx.set_custom_status("done")
    return [*results, approval, child, retried, ctx.new_uuid()]


def run_mixed() -> OrchestrationRun:
    run = OrchestrationRun(mixed)
    run.run_episode()
    run.complete_activity(1, "p1").run_episode()
    run.complete_activity(0, "p0").run_episode()
    run.fire_timer(2).raise_event("approve", "yes").run_episode()
    run.complete_sub_orchestration(3, "child").run_episode()
    run.fail_activity(4, RuntimeError("flaky")).run_episode()
    run.fire_timer(5).run_episode()
    run.complete_activity(6, "retried").run_episode()
    return run


@pytest.mark.parametrize("make_run", [run_chain, run_mixed], ids=["chain", "every kind of call"])
def test_replaying_a_finished_history_asks_for_nothing_and_ends_the_same(make_run):
    run = make_run()
    assert run.status == OrchestrationStatus.COMPLETED

    replayed = run.replay()

    assert replayed.actions == []
    assert replayed.completion == run.last.completion
    assert replayed.custom_status == run.last.custom_status


def test_the_mixed_run_finishes_with_every_result():
    run = run_mixed()

    assert run.output[:5] == ["p0", "p1", "yes", "child", "retried"]


def test_replaying_an_unfinished_history_asks_for_nothing_already_asked_for():
    run = OrchestrationRun(chain, 1)
    run.run_episode()
    run.complete_activity(0, 2).run_episode()

    replayed = run.replay()

    assert replayed.actions == []
    assert replayed.completion is None


def test_redelivered_episode_asks_for_the_same_actions_again():
    run = OrchestrationRun(chain, 1)
    run.run_episode()
    history_before = list(run.history)
    new_events = [ev.orchestrator_started(START), ev.task_completed(START, 0, "2")]

    first = execute(chain, history_before, new_events, instance_id="x")
    again = execute(chain, history_before, new_events, instance_id="x")

    assert first.actions == again.actions
    assert first.history == again.history


def test_episode_history_holds_the_new_events_then_one_scheduling_event_per_action():
    run = OrchestrationRun(chain, 1)
    run.run_episode()

    result = run.complete_activity(0, 2).run_episode()

    assert [(event.event_type, event.task_id, event.name) for event in result.history] == [
        ("OrchestratorStarted", None, None),
        ("TaskCompleted", 0, None),
        ("TaskScheduled", 1, "B"),
    ]


def test_history_survives_a_round_trip_through_dicts():
    run = run_mixed()
    stored = [event.to_dict() for event in run.history]

    replayed = execute(
        mixed,
        [HistoryEvent.from_dict(raw) for raw in stored],
        [ev.orchestrator_started(run.now)],
        instance_id=run.instance_id,
    )

    assert replayed.actions == []
    assert replayed.completion == run.last.completion
