"""The replay engine: pure Python, no I/O and no Django below this package."""

from orchestrations.engine.context import DurableOrchestrationContext, OrchestrationContext
from orchestrations.engine.entities import CriticalSection, EntityId, InvalidEntityIdError
from orchestrations.engine.events import EventType, HistoryEvent
from orchestrations.engine.executor import Completion, EpisodeResult, execute
from orchestrations.engine.failures import FailureDetails, NonDeterminismError, OrchestrationStateError, TaskFailedError
from orchestrations.engine.http import DurableHttpResponse
from orchestrations.engine.ids import InvalidInstanceIdError, validate_instance_id
from orchestrations.engine.retry import RetryOptions
from orchestrations.engine.serialization import SerializationError
from orchestrations.engine.status import OrchestrationStatus
from orchestrations.engine.tasks import Task, TimerTask

__all__ = [
    "Completion",
    "CriticalSection",
    "DurableHttpResponse",
    "DurableOrchestrationContext",
    "EntityId",
    "EpisodeResult",
    "EventType",
    "FailureDetails",
    "HistoryEvent",
    "InvalidEntityIdError",
    "InvalidInstanceIdError",
    "NonDeterminismError",
    "OrchestrationContext",
    "OrchestrationStateError",
    "OrchestrationStatus",
    "RetryOptions",
    "SerializationError",
    "Task",
    "TaskFailedError",
    "TimerTask",
    "execute",
    "validate_instance_id",
]
