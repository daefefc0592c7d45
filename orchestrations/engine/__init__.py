"""The replay engine: pure Python, no I/O and no Django below this package."""

from .context import DurableOrchestrationContext, OrchestrationContext
from .entities import CriticalSection, EntityId, InvalidEntityIdError
from .events import EventType, HistoryEvent
from .executor import Completion, EpisodeResult, execute
from .failures import FailureDetails, NonDeterminismError, OrchestrationStateError, TaskFailedError
from .http import DurableHttpResponse
from .ids import InvalidInstanceIdError, validate_instance_id
from .retry import RetryOptions
from .serialization import SerializationError
from .status import OrchestrationStatus
from .tasks import Task, TimerTask

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
