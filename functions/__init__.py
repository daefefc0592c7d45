"""Function apps: what users write against. Porting from the Azure Python SDK is a change of imports."""

from functions.bindings import (
    AuthLevel,
    HttpMethod,
    HttpRequest,
    HttpResponse,
    Out,
    QueueMessage,
    TimerRequest,
)
from functions.registry import FunctionApp, FunctionKind, RegistrationError, UnknownFunctionError, registry
from orchestrations.engine import (
    DurableHttpResponse,
    DurableOrchestrationContext,
    EntityId,
    OrchestrationContext,
    RetryOptions,
    TaskFailedError,
)

__all__ = [
    "AuthLevel",
    "DurableHttpResponse",
    "DurableOrchestrationContext",
    "EntityId",
    "FunctionApp",
    "FunctionKind",
    "HttpMethod",
    "HttpRequest",
    "HttpResponse",
    "OrchestrationContext",
    "Out",
    "QueueMessage",
    "RegistrationError",
    "RetryOptions",
    "TaskFailedError",
    "TimerRequest",
    "UnknownFunctionError",
    "registry",
]
