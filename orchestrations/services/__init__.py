"""The services: the one place every door (the console, the HTTP API, the CLI) goes through
to act on and read orchestrations. The commands and readings the doors call are named here;
each lives in the module of its subject."""

from __future__ import annotations

from orchestrations.services.common import (
    BadInputError,
    InstanceExistsError,
    InstanceFinishedError,
    InstanceNotFoundError,
    InvalidStateError,
    NotAllowedError,
    OrchestrationError,
    checked,
    parse_json,
)
from orchestrations.services.instances import (
    purge,
    purge_by,
    raise_event,
    restart,
    resume,
    rewind,
    start,
    suspend,
    terminate,
)
from orchestrations.services.queries import QueryPage, get, history, query, wait_for_completion

__all__ = [
    "BadInputError",
    "InstanceExistsError",
    "InstanceFinishedError",
    "InstanceNotFoundError",
    "InvalidStateError",
    "NotAllowedError",
    "OrchestrationError",
    "QueryPage",
    "checked",
    "get",
    "history",
    "parse_json",
    "purge",
    "purge_by",
    "query",
    "raise_event",
    "restart",
    "resume",
    "rewind",
    "start",
    "suspend",
    "terminate",
    "wait_for_completion",
]
