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
