"""A replay kept alive between episodes (``Replay.advance``) behaves exactly like replaying
the whole history each time: same actions, same history, same outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrations.engine import OrchestrationStatus
from orchestrations.engine import events as ev
from orchestrations.engine.executor import Replay
from tests.orchestrations.engine.builder import INSTANCE_ID, START, to_json


def orchestrator(ctx):
    total = 0
    for number in ctx.get_input():
        total += yield ctx.call_activity("Square", number)
        ctx.set_custom_status({"total": total, "id": ctx.new_uuid()})
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=1))
    greeting = yield ctx.wait_for_external_event("Greeting")
    return {"total": total, "greeting": greeting, "at": ctx.current_utc_datetime.isoformat()}


def episodes_of_inputs():
    """The new events of each episode, as a worker would feed them."""
    later = START + timedelta(minutes=1)
    return [
        [ev.orchestrator_started(START), ev.execution_started(START, "Sum", to_json([1, 2, 3]))],
        [ev.orchestrator_started(START), ev.task_completed(START, 0, "1")],
        [ev.orchestrator_started(START), ev.task_completed(START, 1, "4"), ev.event_raised(START, "Greeting", '"hi"')],
        [ev.orchestrator_started(START), ev.task_completed(START, 2, "9")],
        [ev.orchestrator_started(later), ev.timer_fired(later, 3, later)],
    ]


def test_advancing_a_live_replay_matches_replaying_the_history_each_episode():
    history = []
    live = Replay(orchestrator, INSTANCE_ID, 5.0)
    for number, new_events in enumerate(episodes_of_inputs()):
        replayed = Replay(orchestrator, INSTANCE_ID, 5.0).run(list(history), new_events)
        advanced = live.run([], new_events) if number == 0 else live.advance(new_events)

        assert advanced.actions == replayed.actions
        assert advanced.history == replayed.history
        assert advanced.custom_status == replayed.custom_status
        assert advanced.completion == replayed.completion
        history += replayed.history

    assert advanced.completion.status == OrchestrationStatus.COMPLETED
    assert advanced.completion.output == '{"total":14,"greeting":"hi","at":"2025-01-01T12:01:00+00:00"}'


def test_a_finished_replay_cannot_be_advanced():
    live = Replay(lambda ctx: "done", INSTANCE_ID, 5.0)
    live.run([], [ev.orchestrator_started(START), ev.execution_started(START, "Done")])

    with pytest.raises(RuntimeError, match="finished"):
        live.advance([ev.orchestrator_started(START)])


def test_advance_needs_an_orchestrator_started_event_first():
    live = Replay(orchestrator, INSTANCE_ID, 5.0)
    live.run([], episodes_of_inputs()[0])

    with pytest.raises(ValueError, match="OrchestratorStarted"):
        live.advance([ev.task_completed(START, 0, "1")])
