"""JSON in and out of the engine. Payloads cross the storage boundary as JSON text."""

from __future__ import annotations

import json
from typing import Any


class SerializationError(TypeError):
    """A value cannot be stored because it is not JSON-serializable."""


def dumps(value: Any, what: str = "value") -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise SerializationError(f"{what} is not JSON-serializable: {error}") from error


def loads(text: str | None) -> Any:
    if text is None or text == "":
        return None
    return json.loads(text)


#: The deepest nesting of arrays and objects accepted from outside (as in Json.NET, which
#: Durable Functions uses). Deeper data is no real payload; it only makes every reader of it
#: (a replay, the console) recurse that deep.
MAX_DEPTH = 64


class InvalidJsonError(ValueError):
    """Text from outside that is not JSON this engine accepts; the message says where and why."""


def parse(text: str, what: str = "the value") -> Any:
    """JSON text from a client or a person: strict JSON (no NaN or Infinity) nested at most
    ``MAX_DEPTH`` deep."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidJsonError(f"{what} is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as error:
        raise InvalidJsonError(f"{what} is not valid JSON: {error}") from None
    if depth_exceeds(value, MAX_DEPTH):
        raise InvalidJsonError(f"{what} is nested too deeply (at most {MAX_DEPTH} levels)")
    return value


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` deep (iterative: a
    hostile value cannot exhaust the stack here)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
