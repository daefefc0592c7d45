"""History events: every type is accepted by replay and survives storage as a dict."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrations.engine import EventType, FailureDetails, HistoryEvent, OrchestrationStatus, execute
from orchestrations.engine import events as ev
from orchestrations.engine.events import SCHEDULING_EVENTS
from tests.orchestrations.engine.builder import START

FAILURE = FailureDetails("ValueError", "bad", "Traceback...")
LATER = START + timedelta(minutes=1)

ONE_OF_EACH = [
    ev.orchestrator_started(START),
    ev.execution_started(START, "Every", '"in"', version="1", parent_instance_id="parent", parent_task_id=3),
    ev.execution_completed(START, "Completed", '"out"', FAILURE),
    ev.execution_terminated(START, "by operator"),
    ev.execution_suspended(START, "pause"),
    ev.execution_resumed(START, "go on"),
    ev.execution_rewound(START, "retry"),
    ev.task_scheduled(START, 0, "A", '"x"'),
    ev.task_completed(START, 0, '"y"'),
    ev.task_failed(START, 0, FAILURE),
    ev.timer_created(START, 1, LATER),
    ev.timer_fired(START, 1, LATER),
    ev.event_raised(START, "Go", '"z"'),
    ev.event_sent(START, 2, "other", "Go", '"z"'),
    ev.sub_orchestration_created(START, 3, "Child", "child-1", '"c"', "2"),
    ev.sub_orchestration_completed(START, 3, '"r"'),
    ev.sub_orchestration_failed(START, 3, FAILURE),
    ev.entity_operation_called(START, 4, "@counter@c1", "add", "1"),
    ev.entity_operation_signaled(START, 5, "@counter@c1", "add", "1", LATER),
    ev.entity_lock_requested(START, 6, ["@account@a", "@account@b"]),
    ev.entity_unlock_sent(START, 7, ["@account@a", "@account@b"]),
    ev.entity_operation_completed(START, 4, "2"),
    ev.entity_operation_failed(START, 4, FAILURE),
    ev.entity_lock_granted(START, 6),
    ev.approval_requested(START, 8, "ship", title="Ship?", assignees=["warehouse"], details='{"id":1}', deadline=LATER),
    ev.approval_decided(START, 8, '{"approved":true}'),
]


def test_there_is_a_constructor_for_every_event_type():
    assert {event.event_type for event in ONE_OF_EACH} == set(EventType)


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda event: str(event.event_type))
def test_event_survives_a_round_trip_through_a_dict(event):
    assert HistoryEvent.from_dict(event.to_dict()) == event


def test_failure_details_are_read_back_from_failed_events():
    assert ev.task_failed(START, 0, FAILURE).failure == FAILURE
    assert ev.task_completed(START, 0).failure is None


def test_replay_passes_by_suspension_resumption_termination_and_rewind_events():
    def orchestrator(ctx):
        return (yield ctx.call_activity("Work"))

    history = [
        ev.orchestrator_started(START),
        ev.execution_started(START, "Work"),
        ev.task_scheduled(START, 0, "Work"),
        ev.orchestrator_started(LATER),
        ev.execution_suspended(LATER, "maintenance"),
        ev.orchestrator_started(LATER),
        ev.execution_resumed(LATER, "done"),
        ev.execution_rewound(LATER, "operator"),
    ]
    new_events = [ev.orchestrator_started(LATER), ev.task_completed(LATER, 0, '"ok"')]

    result = execute(orchestrator, history, new_events, instance_id="i")

    assert result.completion.status == OrchestrationStatus.COMPLETED
    assert result.completion.output == '"ok"'


#: What a worker may deliver to a running instance: everything but the events the engine
#: itself writes (the start of an episode or execution, scheduling events, the completion).
DELIVERED = [
    event
    for event in ONE_OF_EACH
    if event.event_type not in SCHEDULING_EVENTS
    and event.event_type
    not in {EventType.ORCHESTRATOR_STARTED, EventType.EXECUTION_STARTED, EventType.EXECUTION_COMPLETED}
]


@pytest.mark.parametrize("event", DELIVERED, ids=lambda event: str(event.event_type))
def test_delivered_event_that_concerns_no_open_task_leaves_the_instance_waiting(event):
    def orchestrator(ctx):
        yield ctx.wait_for_external_event("Never")

    history = [ev.orchestrator_started(START), ev.execution_started(START, "Waits")]

    result = execute(orchestrator, history, [ev.orchestrator_started(LATER), event], instance_id="i")

    assert result.completion is None
    assert result.actions == []
    assert result.history == [ev.orchestrator_started(LATER), event]


def test_episode_must_start_with_orchestrator_started():
    with pytest.raises(ValueError, match="must start with OrchestratorStarted"):
        execute(lambda ctx: None, [], [ev.execution_started(START, "X")], instance_id="i")


def test_episode_with_no_new_events_is_refused():
    with pytest.raises(ValueError, match="must start with OrchestratorStarted"):
        execute(lambda ctx: None, [], [], instance_id="i")
