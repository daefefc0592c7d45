"""Actions: what an episode asks the storage layer to do once it is checkpointed.

Each action carries the sequence number (``task_id``) of the call that made it. Replay
compares the call the code makes with the scheduling event history recorded for the same
number; ``describe`` names both in a non-determinism error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import events
from .events import EventType, HistoryEvent


@dataclass(frozen=True, slots=True)
class ScheduleActivity:
    task_id: int
    name: str
    input: str | None = None

    event_type = EventType.TASK_SCHEDULED

    def describe(self) -> str:
        return f"call_activity({self.name!r})"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.task_scheduled(timestamp, self.task_id, self.name, self.input)


@dataclass(frozen=True, slots=True)
class CreateTimer:
    task_id: int
    fire_at: datetime

    event_type = EventType.TIMER_CREATED

    def describe(self) -> str:
        return "create_timer()"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.timer_created(timestamp, self.task_id, self.fire_at)


@dataclass(frozen=True, slots=True)
class CreateSubOrchestration:
    task_id: int
    name: str
    instance_id: str
    input: str | None = None
    version: str | None = None

    event_type = EventType.SUB_ORCHESTRATION_CREATED

    def describe(self) -> str:
        return f"call_sub_orchestrator({self.name!r})"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.sub_orchestration_created(
            timestamp, self.task_id, self.name, self.instance_id, self.input, self.version
        )


@dataclass(frozen=True, slots=True)
class SendEvent:
    task_id: int
    instance_id: str
    name: str
    data: str | None = None

    event_type = EventType.EVENT_SENT

    def describe(self) -> str:
        return f"send_event({self.instance_id!r}, {self.name!r})"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.event_sent(timestamp, self.task_id, self.instance_id, self.name, self.data)


Action = ScheduleActivity | CreateTimer | CreateSubOrchestration | SendEvent


def describe_event(event: HistoryEvent) -> str:
    """Name the call that a scheduling event in history records, as the code would write it."""
    match event.event_type:
        case EventType.TASK_SCHEDULED:
            return f"call_activity({event.name!r})"
        case EventType.TIMER_CREATED:
            return "create_timer()"
        case EventType.SUB_ORCHESTRATION_CREATED:
            return f"call_sub_orchestrator({event.name!r})"
        case EventType.EVENT_SENT:
            return f"send_event({event.details.get('instance_id')!r}, {event.name!r})"
    return str(event.event_type)


def matches(action: Action, event: HistoryEvent) -> bool:
    """Whether ``action`` is the call that ``event`` recorded. Timers match on kind alone:
    their fire time is computed from the clock and may legitimately be written differently."""
    if action.event_type != event.event_type:
        return False
    if isinstance(action, CreateTimer):
        return True
    return action.name == event.name
