"""Reading a request: query parameters and bodies, with a 400 that names what is wrong.

Azure's API quietly ignores a malformed parameter (``showHistory=yes`` is as if absent);
here it is an error, so that a typo does not silently change the answer.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from orchestrations.api.auth import Caller
from orchestrations.api.endpoints import ApiError
from orchestrations.engine import OrchestrationStatus, serialization
from orchestrations.services import paging

CONTINUATION_TOKEN_HEADER = "x-ms-continuation-token"
DEFAULT_PAGE_SIZE = 100
#: A larger ``top`` is served a page of this size and a continuation token.
MAX_PAGE_SIZE = 1000
#: The longest a start or restart call waits for the instance to finish (``timeout``).
MAX_WAIT_SECONDS = 300.0
#: The shortest ``pollingInterval`` used: a smaller one would only busy the database.
MIN_POLLING_SECONDS = 0.05

_STATUSES = {status.value.lower(): status.value for status in OrchestrationStatus}
#: Python's strftime writes years before 1000 without leading zeros on Linux ("1-01-01T..."),
#: so the official client sends such dates; Durable Functions pads them, and so does this.
_SHORT_YEAR = re.compile(r"^(\d{1,3})-")


def flag(request: HttpRequest, name: str, default: bool) -> bool:
    value = request.GET.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ApiError(400, f"the query parameter {name} must be true or false, not {value!r}")
    return lowered == "true"


def timestamp(request: HttpRequest, name: str) -> datetime | None:
    """An ISO 8601 date or time; one without an offset is UTC."""
    value = request.GET.get(name)
    if value is None:
        return None
    padded = _SHORT_YEAR.sub(lambda match: f"{match.group(1).zfill(4)}-", value.strip())
    try:
        return paging.parse_utc(padded)
    except ValueError:
        raise ApiError(400, f"the query parameter {name} must be an ISO 8601 date or time, not {value!r}") from None


def runtime_statuses(request: HttpRequest) -> list[str] | None:
    """``runtimeStatus``: comma-separated, possibly repeated; names match in any case."""
    names = [name.strip() for value in request.GET.getlist("runtimeStatus") for name in value.split(",")]
    names = [name for name in names if name]
    unknown = [name for name in names if name.lower() not in _STATUSES]
    if unknown:
        raise ApiError(400, f"unknown runtimeStatus {', '.join(unknown)}; use {', '.join(sorted(_STATUSES.values()))}")
    return [_STATUSES[name.lower()] for name in names] or None


def page_size(request: HttpRequest) -> int:
    value = request.GET.get("top")
    if value is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        raise ApiError(400, f"the query parameter top must be a whole number, not {value!r}") from None
    if size < 1:
        raise ApiError(400, "the query parameter top must be at least 1")
    return min(size, MAX_PAGE_SIZE)


def continuation_token(request: HttpRequest) -> str | None:
    return request.headers.get(CONTINUATION_TOKEN_HEADER) or None


def wait_seconds(request: HttpRequest) -> tuple[float, float] | None:
    """``timeout`` and ``pollingInterval``, in seconds, when both are given: how long a start or
    restart call waits for the instance to finish, and how often it looks."""
    timeout = _seconds(request, "timeout")
    interval = _seconds(request, "pollingInterval")
    if timeout is None or interval is None:
        return None
    if timeout > MAX_WAIT_SECONDS:
        raise ApiError(400, f"the timeout may be at most {MAX_WAIT_SECONDS:g} seconds")
    if interval > timeout:
        raise ApiError(400, f"the timeout ({timeout:g} s) must be at least the polling interval ({interval:g} s)")
    return timeout, max(interval, MIN_POLLING_SECONDS)


def _seconds(request: HttpRequest, name: str) -> float | None:
    value = request.GET.get(name)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise ApiError(400, f"the query parameter {name} must be a number of seconds, not {value!r}")
    return seconds


def json_body(request: HttpRequest, caller: Caller) -> Any:
    """The body as JSON; an empty body is null."""
    text = _text(request)
    if not text.strip():
        return None
    value = _parse_json(text)
    if caller.sdk_encoding and isinstance(value, str):
        # The official client's double encoding (see Caller.sdk_encoding); a string that is
        # not JSON text is taken as it is.
        try:
            return _parse_json(value)
        except ApiError:
            return value
    return value


def is_json(request: HttpRequest) -> bool:
    return request.content_type.lower() == "application/json"


def text_body(request: HttpRequest) -> str:
    return _text(request)


def _text(request: HttpRequest) -> str:
    try:
        return request.body.decode(request.encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise ApiError(400, "the request body is not text in its declared encoding (UTF-8 by default)") from None


def _parse_json(text: str) -> Any:
    try:
        return serialization.parse(text, "the request body")
    except serialization.InvalidJsonError as error:
        raise ApiError(400, f"Invalid JSON content: {error}") from None
