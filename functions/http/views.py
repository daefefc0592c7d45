"""Serving HTTP functions: find the function whose route matches, check the caller's key,
run the function, and answer with what it returned.

The URL pattern (functions/http/urls.py) only claims a path some function's route matches,
so every other path under the prefix goes on to the built-in routes (the HTTP API's
``/api/orchestrators/...`` starter) and then to a JSON 404 (functions/http/fallback_urls.py).
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest as DjangoRequest
from django.http import HttpResponse as DjangoResponse
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from functions.bindings import AuthLevel, HttpRequest, HttpResponse
from functions.models import Invocation, new_invocation_id
from functions.registry import FunctionKind, HttpTrigger, RegisteredFunction, registry
from functions.services import keys
from functions.store.queues import put_messages
from functions.worker import recorder
from functions.worker.concurrency import slots
from functions.worker.invoke import Invoked, call, fail
from orchestrations.access import apikeys
from orchestrations.access.roles import ADMIN
from orchestrations.engine import FailureDetails
from orchestrations.engine.serialization import dumps
from orchestrations.store.notices import QUEUE, publish_on_commit

logger = logging.getLogger("perdura.functions")

KEY_HEADER = "x-functions-key"
KEY_QUERY_PARAMETER = "code"
#: Who ran an HTTP function, in its invocation row: this web process.
WORKER = f"web:{socket.gethostname()}:{os.getpid()}"
_READ_CHUNK = 64 * 1024


def matching_functions(path: str) -> list[RegisteredFunction]:
    """The HTTP functions whose route matches ``path`` (without the prefix), the most specific
    first: more literal segments, then no catch-all, then more typed parameters."""
    found = [
        function
        for function in registry.functions(FunctionKind.HTTP)
        if isinstance(function.trigger, HttpTrigger)
        and not function.is_disabled
        and function.trigger.route.match(path) is not None
    ]
    return sorted(found, key=_specificity)


def _specificity(function: RegisteredFunction) -> tuple[int, bool, int, str]:
    route = function.trigger.route  # type: ignore[union-attr]
    parameters = [part for part in route.shape.split("/") if part.startswith("{")]
    typed = sum(1 for part in parameters if part not in ("{}", "{?}", "{*}"))
    return (-route.literal_segments, "{*}" in parameters, -typed, route.template)


@csrf_exempt  # Callers authenticate with keys, never with cookies.
def serve(request: DjangoRequest, path: str = "") -> DjangoResponse:
    candidates = matching_functions(path)
    if not candidates:
        return _error(404, "no HTTP function's route matches this path")
    method = request.method or "GET"
    function = next((f for f in candidates if f.trigger.allows(method)), None)  # type: ignore[union-attr]
    if function is None:
        allowed = ", ".join(sorted(set().union(*(f.trigger.methods for f in candidates))))  # type: ignore[union-attr]
        response = _error(405, f"{method} is not allowed here; use {allowed}")
        response["Allow"] = allowed
        return response
    refusal = _refusal(request, function)
    if refusal is not None:
        return refusal
    body = _body(request)
    if body is None:
        return _error(413, f"the request body is larger than {settings.PERDURA_MAX_REQUEST_BYTES} bytes")
    trigger = function.trigger
    assert isinstance(trigger, HttpTrigger)
    http_request = HttpRequest(
        method,
        request.build_absolute_uri(),
        headers=dict(request.headers),
        params=dict(request.GET.items()),
        route_params=trigger.route.match(path),
        body=body,
    )
    invocation_id = new_invocation_id()
    with slots(function, wanted=1, holder=f"{WORKER}:{invocation_id}") as held:
        if not held.granted:
            return _busy(function, held.free_at)
        invoked = call(
            function,
            http_request,
            trigger=Invocation.Trigger.HTTP,
            worker=WORKER,
            input_text=_input(request),
            invocation_id=invocation_id,
        )
    response = _answer(function, invoked)
    invoked.invocation.status_code = response.status_code
    recorder.record(invoked.invocation)
    return response


def _busy(function: RegisteredFunction, free_at: datetime | None) -> DjangoResponse:
    """429 when the function already runs ``max_concurrency`` requests (across every web
    process), with when to try again, as Azure answers when a host is at its limit."""
    wait = max(1, math.ceil((free_at - timezone.now()).total_seconds())) if free_at else 1
    response = _error(429, f"function {function.name!r} already runs its limit of {function.max_concurrency} at once")
    response["Retry-After"] = str(wait)
    return response


# Keys.


def _refusal(request: DjangoRequest, function: RegisteredFunction) -> DjangoResponse | None:
    """None when the caller may call ``function``; else the 401 to answer. The key is never
    logged nor echoed."""
    level = function.trigger.auth_level  # type: ignore[union-attr]
    if level == AuthLevel.ANONYMOUS:
        return None
    plain_key = request.headers.get(KEY_HEADER) or request.GET.get(KEY_QUERY_PARAMETER)
    if not plain_key:
        return _error(
            401, f"this function needs a key: send it in the {KEY_HEADER} header or the {KEY_QUERY_PARAMETER} parameter"
        )
    if level == AuthLevel.FUNCTION and keys.authenticate(plain_key, function.name) is not None:
        return None
    # The master key: an API key whose role may administer.
    api_key = apikeys.authenticate(plain_key)
    if api_key is not None and api_key.role == ADMIN:
        return None
    what = "the admin key (an API key of the admin role)" if level == AuthLevel.ADMIN else "a key of this function"
    return _error(401, f"the key is not valid here: this function needs {what}, or a host key")


# The request.


def _body(request: DjangoRequest) -> bytes | None:
    """The body, or None when it is over the limit: refused by its Content-Length before
    anything is read, and the read capped for a body that does not say its length."""
    limit = settings.PERDURA_MAX_REQUEST_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    chunks, size = [], 0
    while size <= limit:
        chunk = request.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks) if size <= limit else None


def _input(request: DjangoRequest) -> str | None:
    """What the invocation row shows as its input: the method and URL, without a key."""
    query = [(name, value) for name, value in request.GET.items() if name != KEY_QUERY_PARAMETER]
    url = request.path + (f"?{urlencode(query)}" if query else "")
    return dumps({"method": request.method, "url": url})


# The answer.


def _answer(function: RegisteredFunction, invoked: Invoked) -> DjangoResponse:
    if not invoked.succeeded:
        return _failed(invoked)
    try:
        response = to_response(invoked.value)
    except (TypeError, ValueError) as error:
        fail(invoked.invocation, FailureDetails.from_exception(error))
        return _failed(invoked)
    if invoked.outputs:
        try:
            _put_outputs(invoked.outputs)
        except Exception as error:  # The function ran, but its messages are not written: say so.
            fail(invoked.invocation, FailureDetails.from_exception(error))
            return _failed(invoked)
    return response


def to_response(value: Any) -> DjangoResponse:
    """An HttpResponse as given; a str as text, bytes as octet-stream, None as 204, anything
    else as JSON. Raises TypeError or ValueError for a value that cannot be answered."""
    if isinstance(value, HttpResponse):
        response = DjangoResponse(
            value.get_body(), status=value.status_code, content_type=f"{value.mimetype}; charset={value.charset}"
        )
        for name, header in value.headers.items():
            response[name] = header
        return response
    if isinstance(value, str):
        return DjangoResponse(value.encode(), content_type="text/plain; charset=utf-8")
    if isinstance(value, bytes | bytearray):
        return DjangoResponse(bytes(value), content_type="application/octet-stream")
    if value is None:
        response = DjangoResponse(status=204)
        del response["Content-Type"]  # No content, so no type of it.
        return response
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return DjangoResponse(text.encode(), content_type="application/json; charset=utf-8")


def _put_outputs(outputs: dict[str, list[str]]) -> None:
    """The queue output bindings' messages, written before the answer so none is lost."""
    with transaction.atomic():
        for queue, texts in outputs.items():
            put_messages(queue, texts)
        publish_on_commit(QUEUE, sorted(outputs))


def _failed(invoked: Invoked) -> DjangoResponse:
    """500 naming the invocation; the traceback is in its row, for the console, not here."""
    invocation_id = invoked.invocation.invocation_id
    return _error(
        500, f"the function {invoked.invocation.function_name!r} failed (invocation {invocation_id})", invocation_id
    )


def _error(status: int, message: str, invocation_id: str | None = None) -> JsonResponse:
    body: dict[str, str] = {"Message": message}
    if invocation_id is not None:
        body["invocationId"] = invocation_id
    return JsonResponse(body, status=status)


@csrf_exempt  # Else a POST to an unknown path would get the CSRF failure page, in HTML.
def not_found(request: DjangoRequest) -> DjangoResponse:
    return _error(404, "no HTTP function's route matches this path")
