"""Function apps: what users write against. Porting from the Azure Python SDK is a change of imports."""

from orchestrations.engine import (
    DurableHttpResponse,
    DurableOrchestrationContext,
    EntityId,
    OrchestrationContext,
    RetryOptions,
    TaskFailedError,
)

from .registry import FunctionApp, FunctionKind, UnknownFunctionError, registry

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
