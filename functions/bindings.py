"""What trigger functions receive and return: requests, responses, timer and queue messages,
and output bindings, with the attributes and methods of Azure Functions' Python types so that
a function written for Azure reads the same here."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from http import HTTPStatus
from typing import Any, Generic, TypeVar

from orchestrations.engine.serialization import parse

T = TypeVar("T")


class AuthLevel(StrEnum):
    """Who may call an HTTP function, under Azure's names."""

    ANONYMOUS = "anonymous"
    #: A key of this function or a host key (``x-functions-key`` header or ``code`` parameter).
    FUNCTION = "function"
    #: The admin (master) key: here, an API key whose role may administer.
    ADMIN = "admin"


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"
    TRACE = "TRACE"
    CONNECT = "CONNECT"


class Headers(Mapping[str, str]):
    """Header names compare without case, as in HTTP."""

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._items = {name.lower(): str(value) for name, value in (headers or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def _json_of(body: bytes, what: str) -> Any:
    try:
        return parse(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{what} does not contain valid JSON data: {error}") from None


class HttpRequest:
    """An HTTP request to an HTTP-triggered function."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        route_params: Mapping[str, str] | None = None,
        body: bytes,
    ) -> None:
        self.method = method.upper()
        self.url = url
        self.headers = Headers(headers)
        self.params = dict(params or {})
        self.route_params = dict(route_params or {})
        self._body = body

    def get_body(self) -> bytes:
        return self._body

    def get_json(self) -> Any:
        return _json_of(self._body, "HTTP request")

    def __repr__(self) -> str:
        return f"<HttpRequest {self.method} {self.url}>"


class HttpResponse:
    """What an HTTP-triggered function may return (it may also return a str or JSON data)."""

    def __init__(
        self,
        body: str | bytes | None = None,
        *,
        status_code: HTTPStatus | int | None = None,
        headers: Mapping[str, str] | None = None,
        mimetype: str | None = None,
        charset: str | None = None,
    ) -> None:
        self.status_code = int(status_code or 200)
        self.mimetype = mimetype or "text/plain"
        self.charset = charset or "utf-8"
        self.headers = dict(headers or {})
        if body is None:
            self._body = b""
        elif isinstance(body, str):
            self._body = body.encode(self.charset)
        elif isinstance(body, bytes | bytearray):
            self._body = bytes(body)
        else:
            raise TypeError(f"an HttpResponse's body is str or bytes, not {type(body).__name__}")

    def get_body(self) -> bytes:
        return self._body

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status_code} {self.mimetype} {len(self._body)} bytes>"


class TimerRequest:
    """What a timer-triggered function receives."""

    def __init__(self, *, past_due: bool = False, schedule: str = "", scheduled_at: datetime | None = None) -> None:
        #: True when this run stands for occurrences missed while no worker was running.
        self.past_due = past_due
        self.schedule = schedule
        #: The occurrence this run is for (Perdura's addition).
        self.scheduled_at = scheduled_at

    def __repr__(self) -> str:
        return f"<TimerRequest past_due={self.past_due} scheduled_at={self.scheduled_at}>"


class QueueMessage:
    """A message delivered to a queue-triggered function."""

    def __init__(
        self,
        *,
        id: str | None = None,
        body: str | bytes | None = None,
        pop_receipt: str | None = None,
        dequeue_count: int = 1,
        insertion_time: datetime | None = None,
        expiration_time: datetime | None = None,
        time_next_visible: datetime | None = None,
        queue_name: str = "",
    ) -> None:
        self.id = id
        self._body = body.encode() if isinstance(body, str) else (body or b"")
        self.pop_receipt = pop_receipt
        self.dequeue_count = dequeue_count
        self.insertion_time = insertion_time
        self.expiration_time = expiration_time
        self.time_next_visible = time_next_visible
        self.queue_name = queue_name

    def get_body(self) -> bytes:
        return self._body

    def get_json(self) -> Any:
        return _json_of(self._body, "queue message")

    def __repr__(self) -> str:
        return f"<QueueMessage {self.id} on {self.queue_name!r} dequeue_count={self.dequeue_count}>"


class Out(Generic[T]):
    """An output binding: the function ``set()``s a value; it is written when the function succeeds."""

    def __init__(self) -> None:
        self._value: T | None = None
        self.is_set = False

    def set(self, val: T) -> None:
        self._value = val
        self.is_set = True

    def get(self) -> T | None:
        return self._value

    def __repr__(self) -> str:
        return f"<Out {self._value!r}>" if self.is_set else "<Out (not set)>"


def message_text(value: Any, what: str) -> str:
    """The text a queue stores for ``value``: a str or bytes as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{what} is bytes that are not UTF-8 text") from None
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} cannot be serialised as JSON: {error}") from None
