"""History events: the append-only record an orchestration is replayed from.

The event types and their meaning follow the Durable Task Framework, so a history reads the
same as one from Azure Durable Functions. One small dataclass carries every type: the fields
that most events share are attributes, the rest sit in ``details``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from orchestrations.engine.failures import FailureDetails


class EventType(StrEnum):
    EXECUTION_STARTED = "ExecutionStarted"
    EXECUTION_COMPLETED = "ExecutionCompleted"
    EXECUTION_TERMINATED = "ExecutionTerminated"
    EXECUTION_SUSPENDED = "ExecutionSuspended"
    EXECUTION_RESUMED = "ExecutionResumed"
    EXECUTION_REWOUND = "ExecutionRewound"
    ORCHESTRATOR_STARTED = "OrchestratorStarted"
    TASK_SCHEDULED = "TaskScheduled"
    TASK_COMPLETED = "TaskCompleted"
    TASK_FAILED = "TaskFailed"
    TIMER_CREATED = "TimerCreated"
    TIMER_FIRED = "TimerFired"
    EVENT_RAISED = "EventRaised"
    EVENT_SENT = "EventSent"
    SUB_ORCHESTRATION_CREATED = "SubOrchestrationInstanceCreated"
    SUB_ORCHESTRATION_COMPLETED = "SubOrchestrationInstanceCompleted"
    SUB_ORCHESTRATION_FAILED = "SubOrchestrationInstanceFailed"
    ENTITY_OPERATION_CALLED = "EntityOperationCalled"
    ENTITY_OPERATION_SIGNALED = "EntityOperationSignaled"
    ENTITY_LOCK_REQUESTED = "EntityLockRequested"
    ENTITY_UNLOCK_SENT = "EntityUnlockSent"
    ENTITY_OPERATION_COMPLETED = "EntityOperationCompleted"
    ENTITY_OPERATION_FAILED = "EntityOperationFailed"
    ENTITY_LOCK_GRANTED = "EntityLockGranted"
    APPROVAL_REQUESTED = "ApprovalRequested"
    APPROVAL_DECIDED = "ApprovalDecided"


#: Events the orchestrator itself produces by making a durable call. Replay checks each of
#: them against the call the code makes at the same sequence number.
SCHEDULING_EVENTS = frozenset(
    {
        EventType.TASK_SCHEDULED,
        EventType.TIMER_CREATED,
        EventType.SUB_ORCHESTRATION_CREATED,
        EventType.EVENT_SENT,
        EventType.ENTITY_OPERATION_CALLED,
        EventType.ENTITY_OPERATION_SIGNALED,
        EventType.ENTITY_LOCK_REQUESTED,
        EventType.ENTITY_UNLOCK_SENT,
        EventType.APPROVAL_REQUESTED,
    }
)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One entry of an orchestration's history.

    ``task_id`` is the sequence number of the durable call an event belongs to (the
    TaskScheduledId of Durable Task); ``data`` is a JSON document as text (an input, a result,
    an event payload) so that payloads are serialized once and stored as they are.
    """

    event_type: EventType
    timestamp: datetime
    task_id: int | None = None
    name: str | None = None
    data: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failure(self) -> FailureDetails | None:
        raw = self.details.get("failure")
        return FailureDetails.from_dict(raw) if raw else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_type": str(self.event_type),
            "timestamp": self.timestamp.isoformat(),
            "task_id": self.task_id,
            "name": self.name,
            "data": self.data,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> HistoryEvent:
        return cls(
            event_type=EventType(raw["event_type"]),
            timestamp=datetime.fromisoformat(raw["timestamp"]),
            task_id=raw.get("task_id"),
            name=raw.get("name"),
            data=raw.get("data"),
            details=raw.get("details") or {},
        )


# Constructors, one per event type, so callers never spell the details keys themselves.


def orchestrator_started(timestamp: datetime) -> HistoryEvent:
    return HistoryEvent(EventType.ORCHESTRATOR_STARTED, timestamp)


def execution_started(
    timestamp: datetime,
    name: str,
    input: str | None = None,
    *,
    version: str | None = None,
    parent_instance_id: str | None = None,
    parent_task_id: int | None = None,
) -> HistoryEvent:
    details = {
        "version": version,
        "parent_instance_id": parent_instance_id,
        "parent_task_id": parent_task_id,
    }
    return HistoryEvent(EventType.EXECUTION_STARTED, timestamp, name=name, data=input, details=details)


def execution_completed(
    timestamp: datetime, status: str, output: str | None = None, failure: FailureDetails | None = None
) -> HistoryEvent:
    details: dict[str, Any] = {"status": status}
    if failure is not None:
        details["failure"] = failure.to_dict()
    return HistoryEvent(EventType.EXECUTION_COMPLETED, timestamp, data=output, details=details)


def execution_terminated(timestamp: datetime, reason: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.EXECUTION_TERMINATED, timestamp, data=reason)


def execution_suspended(timestamp: datetime, reason: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.EXECUTION_SUSPENDED, timestamp, data=reason)


def execution_resumed(timestamp: datetime, reason: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.EXECUTION_RESUMED, timestamp, data=reason)


def execution_rewound(timestamp: datetime, reason: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.EXECUTION_REWOUND, timestamp, data=reason)


def task_scheduled(timestamp: datetime, task_id: int, name: str, input: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.TASK_SCHEDULED, timestamp, task_id=task_id, name=name, data=input)


def task_completed(timestamp: datetime, task_id: int, result: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.TASK_COMPLETED, timestamp, task_id=task_id, data=result)


def task_failed(timestamp: datetime, task_id: int, failure: FailureDetails) -> HistoryEvent:
    return HistoryEvent(EventType.TASK_FAILED, timestamp, task_id=task_id, details={"failure": failure.to_dict()})


def timer_created(timestamp: datetime, task_id: int, fire_at: datetime) -> HistoryEvent:
    return HistoryEvent(EventType.TIMER_CREATED, timestamp, task_id=task_id, details={"fire_at": fire_at.isoformat()})


def timer_fired(timestamp: datetime, task_id: int, fire_at: datetime) -> HistoryEvent:
    return HistoryEvent(EventType.TIMER_FIRED, timestamp, task_id=task_id, details={"fire_at": fire_at.isoformat()})


def event_raised(timestamp: datetime, name: str, data: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.EVENT_RAISED, timestamp, name=name, data=data)


def event_sent(timestamp: datetime, task_id: int, instance_id: str, name: str, data: str | None = None) -> HistoryEvent:
    return HistoryEvent(
        EventType.EVENT_SENT,
        timestamp,
        task_id=task_id,
        name=name,
        data=data,
        details={"instance_id": instance_id},
    )


def sub_orchestration_created(
    timestamp: datetime,
    task_id: int,
    name: str,
    instance_id: str,
    input: str | None = None,
    version: str | None = None,
) -> HistoryEvent:
    return HistoryEvent(
        EventType.SUB_ORCHESTRATION_CREATED,
        timestamp,
        task_id=task_id,
        name=name,
        data=input,
        details={"instance_id": instance_id, "version": version},
    )


def sub_orchestration_completed(timestamp: datetime, task_id: int, result: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.SUB_ORCHESTRATION_COMPLETED, timestamp, task_id=task_id, data=result)


def sub_orchestration_failed(timestamp: datetime, task_id: int, failure: FailureDetails) -> HistoryEvent:
    return HistoryEvent(
        EventType.SUB_ORCHESTRATION_FAILED,
        timestamp,
        task_id=task_id,
        details={"failure": failure.to_dict()},
    )


def entity_operation_called(
    timestamp: datetime, task_id: int, entity_id: str, operation: str, input: str | None = None
) -> HistoryEvent:
    return HistoryEvent(
        EventType.ENTITY_OPERATION_CALLED,
        timestamp,
        task_id=task_id,
        name=operation,
        data=input,
        details={"entity_id": entity_id},
    )


def entity_operation_signaled(
    timestamp: datetime,
    task_id: int,
    entity_id: str,
    operation: str,
    input: str | None = None,
    scheduled_time: datetime | None = None,
) -> HistoryEvent:
    details = {"entity_id": entity_id, "scheduled_time": scheduled_time.isoformat() if scheduled_time else None}
    return HistoryEvent(
        EventType.ENTITY_OPERATION_SIGNALED, timestamp, task_id=task_id, name=operation, data=input, details=details
    )


def entity_lock_requested(timestamp: datetime, task_id: int, entity_ids: list[str]) -> HistoryEvent:
    return HistoryEvent(
        EventType.ENTITY_LOCK_REQUESTED, timestamp, task_id=task_id, details={"entity_ids": list(entity_ids)}
    )


def entity_unlock_sent(timestamp: datetime, task_id: int, entity_ids: list[str]) -> HistoryEvent:
    return HistoryEvent(
        EventType.ENTITY_UNLOCK_SENT, timestamp, task_id=task_id, details={"entity_ids": list(entity_ids)}
    )


def entity_operation_completed(timestamp: datetime, task_id: int, result: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.ENTITY_OPERATION_COMPLETED, timestamp, task_id=task_id, data=result)


def entity_operation_failed(timestamp: datetime, task_id: int, failure: FailureDetails) -> HistoryEvent:
    return HistoryEvent(
        EventType.ENTITY_OPERATION_FAILED, timestamp, task_id=task_id, details={"failure": failure.to_dict()}
    )


def entity_lock_granted(timestamp: datetime, task_id: int) -> HistoryEvent:
    return HistoryEvent(EventType.ENTITY_LOCK_GRANTED, timestamp, task_id=task_id)


def approval_requested(
    timestamp: datetime,
    task_id: int,
    name: str,
    *,
    title: str,
    assignees: list[str],
    details: str | None = None,
    deadline: datetime | None = None,
) -> HistoryEvent:
    return HistoryEvent(
        EventType.APPROVAL_REQUESTED,
        timestamp,
        task_id=task_id,
        name=name,
        data=details,
        details={"title": title, "assignees": list(assignees), "deadline": deadline.isoformat() if deadline else None},
    )


def approval_decided(timestamp: datetime, task_id: int, decision: str) -> HistoryEvent:
    return HistoryEvent(EventType.APPROVAL_DECIDED, timestamp, task_id=task_id, data=decision)


#: The events a client sends to control an instance: they reach even a suspended one.
CONTROL_EVENTS = (EventType.EXECUTION_TERMINATED, EventType.EXECUTION_SUSPENDED, EventType.EXECUTION_RESUMED)
