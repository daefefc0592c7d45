"""What every service shares: the errors a door turns into its answer (a status code, an exit
status, a message on the page), and the checks of what comes from outside, each raising
BadInputError before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.activities import PayloadTooLargeError, check_payload_size
from orchestrations.engine import (
    SerializationError,
    serialization,
)
from orchestrations.engine.limits import (
    LimitError,
)
from orchestrations.engine.serialization import dumps


class OrchestrationError(Exception):
    """A request the engine cannot serve; the message says why."""


class BadInputError(OrchestrationError, ValueError):
    """Malformed input: an unknown name, an invalid id, a payload that is not JSON or too large."""


class InstanceNotFoundError(OrchestrationError, LookupError):
    pass


class InstanceExistsError(OrchestrationError):
    """An instance with that id exists and has not finished."""


class InstanceFinishedError(OrchestrationError):
    """The instance has finished; it cannot be acted on that way any more."""


class InvalidStateError(OrchestrationError):
    """The instance is not in a state that allows the command (rewinding a running one, say)."""


class NotAllowedError(OrchestrationError, PermissionError):
    """The actor's role does not allow what the command would do."""


def serialize_payload(value: Any, what: str) -> str | None:
    """A payload from outside as JSON text within the size limit, or BadInputError."""
    try:
        payload = dumps(value, what)
        check_payload_size(payload, what)
    except (SerializationError, PayloadTooLargeError) as error:
        raise BadInputError(str(error)) from error
    return payload


def parse_json(text: str | None, what: str) -> Any:
    """Parse JSON text given by a person or a client, with an error that says where it broke."""
    if text is None:
        return None
    try:
        return serialization.parse(text, what)
    except serialization.InvalidJsonError as error:
        raise BadInputError(str(error)) from None


def checked(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A value checked against its limit (see engine/limits.py), refused as bad input."""
    try:
        return check(*args, **kwargs)
    except LimitError as error:
        raise BadInputError(str(error)) from None
