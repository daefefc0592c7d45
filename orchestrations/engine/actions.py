"""Actions: what an episode asks the storage layer to do once it is checkpointed.

Each action carries the sequence number (``task_id``) of the call that made it. Replay
compares the call the code makes with the scheduling event history recorded for the same
number; ``describe`` names both in a non-determinism error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orchestrations.engine import events
from orchestrations.engine.events import EventType, HistoryEvent


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


@dataclass(frozen=True, slots=True)
class CallEntity:
    task_id: int
    entity_id: str
    operation: str
    input: str | None = None

    event_type = EventType.ENTITY_OPERATION_CALLED

    def describe(self) -> str:
        return f"call_entity({self.entity_id!r}, {self.operation!r})"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.entity_operation_called(timestamp, self.task_id, self.entity_id, self.operation, self.input)


@dataclass(frozen=True, slots=True)
class SignalEntity:
    task_id: int
    entity_id: str
    operation: str
    input: str | None = None
    scheduled_time: datetime | None = None

    event_type = EventType.ENTITY_OPERATION_SIGNALED

    def describe(self) -> str:
        return f"signal_entity({self.entity_id!r}, {self.operation!r})"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.entity_operation_signaled(
            timestamp, self.task_id, self.entity_id, self.operation, self.input, self.scheduled_time
        )


@dataclass(frozen=True, slots=True)
class LockEntities:
    task_id: int
    entity_ids: tuple[str, ...]

    event_type = EventType.ENTITY_LOCK_REQUESTED

    def describe(self) -> str:
        return f"lock_entities({', '.join(map(repr, self.entity_ids))})"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.entity_lock_requested(timestamp, self.task_id, list(self.entity_ids))


@dataclass(frozen=True, slots=True)
class UnlockEntities:
    task_id: int
    entity_ids: tuple[str, ...]

    event_type = EventType.ENTITY_UNLOCK_SENT

    def describe(self) -> str:
        return f"release of the locks on {', '.join(map(repr, self.entity_ids))}"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.entity_unlock_sent(timestamp, self.task_id, list(self.entity_ids))


@dataclass(frozen=True, slots=True)
class RequestApproval:
    task_id: int
    name: str
    title: str
    assignees: tuple[str, ...]
    details: str | None = None
    deadline: datetime | None = None

    event_type = EventType.APPROVAL_REQUESTED

    def describe(self) -> str:
        return f"request_approval({self.name!r})"

    def to_event(self, timestamp: datetime) -> HistoryEvent:
        return events.approval_requested(
            timestamp,
            self.task_id,
            self.name,
            title=self.title,
            assignees=list(self.assignees),
            details=self.details,
            deadline=self.deadline,
        )


Action = (
    ScheduleActivity
    | CreateTimer
    | CreateSubOrchestration
    | SendEvent
    | CallEntity
    | SignalEntity
    | LockEntities
    | UnlockEntities
    | RequestApproval
)


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
        case EventType.ENTITY_OPERATION_CALLED:
            return f"call_entity({event.details.get('entity_id')!r}, {event.name!r})"
        case EventType.ENTITY_OPERATION_SIGNALED:
            return f"signal_entity({event.details.get('entity_id')!r}, {event.name!r})"
        case EventType.ENTITY_LOCK_REQUESTED:
            return f"lock_entities({', '.join(map(repr, event.details.get('entity_ids', [])))})"
        case EventType.APPROVAL_REQUESTED:
            return f"request_approval({event.name!r})"
        case EventType.ENTITY_UNLOCK_SENT:
            return f"release of the locks on {', '.join(map(repr, event.details.get('entity_ids', [])))}"
    return str(event.event_type)


def matches(action: Action, event: HistoryEvent) -> bool:
    """Whether ``action`` is the call that ``event`` recorded. Timers match on kind alone:
    their fire time is computed from the clock and may legitimately be written differently."""
    if action.event_type != event.event_type:
        return False
    if isinstance(action, CreateTimer):
        return True
    if isinstance(action, CallEntity | SignalEntity | LockEntities | UnlockEntities):
        return action.describe() == describe_event(event)
    return action.name == event.name
