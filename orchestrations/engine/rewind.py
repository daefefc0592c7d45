"""Rewind, as replay semantics: which events of a failed instance's history a rewind forgets,
and which of the calls left in it are still open and must be made again. Pure: the services
apply the plan to the stored history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from orchestrations.engine.entities import held_locks
from orchestrations.engine.events import EventType, HistoryEvent

_FAILURES = {EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_FAILED}
_SCHEDULING = {
    EventType.TASK_SCHEDULED,
    EventType.TIMER_CREATED,
    EventType.SUB_ORCHESTRATION_CREATED,
    EventType.EVENT_SENT,
}
#: What answers a call. A failure the rewind keeps (of an earlier episode, which the
#: orchestrator saw and handled) answers its call as much as a result does.
_ANSWERS = {
    EventType.TASK_COMPLETED,
    EventType.TASK_FAILED,
    EventType.SUB_ORCHESTRATION_COMPLETED,
    EventType.SUB_ORCHESTRATION_FAILED,
    EventType.TIMER_FIRED,
}


class RewindRefusedError(ValueError):
    """The history cannot be rewound; the message says why and what to do instead."""


@dataclass(frozen=True)
class OpenActivity:
    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True)
class OpenTimer:
    task_id: int
    fire_at: datetime


@dataclass(frozen=True)
class OpenSubOrchestration:
    task_id: int
    instance_id: str


@dataclass(frozen=True)
class RewindPlan:
    #: Positions in the history of the events the rewind deletes.
    forgotten: frozenset[int]
    #: The calls still open once those are gone, to be made (or answered) again.
    activities: list[OpenActivity]
    timers: list[OpenTimer]
    sub_orchestrations: list[OpenSubOrchestration]


def plan_rewind(history: Sequence[HistoryEvent]) -> RewindPlan:
    """What rewinding a failed instance with this history does: forget the failed calls of its
    final episode, what the orchestrator did after the first of them, and its completion; then
    make again every call left without an answer. RewindRefusedError if it failed inside a
    critical section (its locks went with the failure; carrying on would act as if held)."""
    forgotten = _to_forget(history)
    first_forgotten = min(forgotten, default=len(history))
    if held_locks(history[:first_forgotten]):
        raise RewindRefusedError(
            "failed inside a critical section: its entity locks were released when it failed, "
            "and a rewind would carry on as if it still held them; restart it instead"
        )
    kept = [event for position, event in enumerate(history) if position not in forgotten]
    answered = {event.task_id for event in kept if event.event_type in _ANSWERS}
    open_calls = [event for event in kept if event.task_id is not None and event.task_id not in answered]
    return RewindPlan(
        frozenset(forgotten),
        [OpenActivity(e.task_id, e.name, e.data) for e in open_calls if e.event_type == EventType.TASK_SCHEDULED],
        [
            OpenTimer(e.task_id, datetime.fromisoformat(e.details["fire_at"]))
            for e in open_calls
            if e.event_type == EventType.TIMER_CREATED
        ],
        [
            OpenSubOrchestration(e.task_id, e.details.get("instance_id"))
            for e in open_calls
            if e.event_type == EventType.SUB_ORCHESTRATION_CREATED
        ],
    )


def _to_forget(history: Sequence[HistoryEvent]) -> set[int]:
    last_start = max(
        (i for i, event in enumerate(history) if event.event_type == EventType.ORCHESTRATOR_STARTED), default=0
    )
    forget = set()
    failure_seen = False
    for position in range(last_start, len(history)):
        event_type = history[position].event_type
        if event_type in _FAILURES:
            failure_seen = True
            forget.add(position)
        elif event_type == EventType.EXECUTION_COMPLETED or (failure_seen and event_type in _SCHEDULING):
            forget.add(position)
    return forget
