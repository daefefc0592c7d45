"""Function apps: what users write against. Porting from the Azure Python SDK is a change of imports."""

from functions.registry import FunctionApp, FunctionKind, UnknownFunctionError, registry
from orchestrations.engine import (
    DurableHttpResponse,
    DurableOrchestrationContext,
    EntityId,
    OrchestrationContext,
    RetryOptions,
    TaskFailedError,
)

__all__ = [
    "DurableHttpResponse",
    "DurableOrchestrationContext",
    "EntityId",
    "FunctionApp",
    "FunctionKind",
    "OrchestrationContext",
    "RetryOptions",
    "TaskFailedError",
    "UnknownFunctionError",
    "registry",
]
