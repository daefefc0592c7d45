"""Failure details and the exceptions the engine raises into orchestrator code."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FailureDetails:
    """What went wrong, kept in history and shown to people: type, message, traceback."""

    error_type: str
    message: str
    stack_trace: str | None = None

    @classmethod
    def from_exception(cls, error: BaseException) -> FailureDetails:
        stack = "".join(traceback.format_exception(error))
        return cls(
            error_type=storable(qualified_type_name(type(error))),
            message=storable(str(error)),
            stack_trace=storable(stack),
        )

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FailureDetails:
        return cls(raw["error_type"], raw.get("message", ""), raw.get("stack_trace"))

    def to_dict(self) -> dict[str, Any]:
        return {"error_type": self.error_type, "message": self.message, "stack_trace": self.stack_trace}

    def is_caused_by(self, error_type: type[BaseException] | str) -> bool:
        """Whether this failure was an ``error_type`` (by class or by name, qualified or not)."""
        if isinstance(error_type, type):
            error_type = qualified_type_name(error_type)
        short_name = self.error_type.rsplit(".", 1)[-1]
        return error_type in (self.error_type, short_name)


def storable(text: str) -> str:
    """Text from user code, with any NUL shown as ``\\x00``: PostgreSQL cannot store NUL in
    text or JSON, and a failure that cannot be stored would fail its checkpoint forever."""
    return text.replace("\x00", "\\x00") if "\x00" in text else text


def qualified_type_name(error_type: type) -> str:
    if error_type.__module__ == "builtins":
        return error_type.__qualname__
    return f"{error_type.__module__}.{error_type.__qualname__}"


class TaskFailedError(Exception):
    """An activity or sub-orchestration failed; raised at the orchestrator's ``yield``.

    ``details`` holds the remote failure: its type, message and traceback.
    """

    def __init__(self, message: str, details: FailureDetails) -> None:
        super().__init__(message)
        self.details = details


class NonDeterminismError(Exception):
    """Replaying the orchestrator produced calls that differ from its recorded history."""


class OrchestrationStateError(Exception):
    """The orchestrator used the context in a way the engine does not allow."""
