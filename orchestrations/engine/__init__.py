"""The replay engine: pure Python, no I/O and no Django below this package."""

from .context import DurableOrchestrationContext, OrchestrationContext
from .events import EventType, HistoryEvent
from .executor import Completion, EpisodeResult, execute
from .failures import FailureDetails, NonDeterminismError, TaskFailedError
from .http import DurableHttpResponse
from .ids import InvalidInstanceIdError, validate_instance_id
from .retry import RetryOptions
from .serialization import SerializationError
from .status import OrchestrationStatus
from .tasks import Task, TimerTask

__all__ = [
    "Completion",
    "DurableHttpResponse",
    "DurableOrchestrationContext",
    "EpisodeResult",
    "EventType",
    "FailureDetails",
    "HistoryEvent",
    "InvalidInstanceIdError",
    "NonDeterminismError",
    "OrchestrationContext",
    "OrchestrationStatus",
    "RetryOptions",
    "SerializationError",
    "Task",
    "TaskFailedError",
    "TimerTask",
    "execute",
    "validate_instance_id",
]
