"""Durable queues over HTTP, with the API's keys and roles:

- ``GET /admin/queues``: every queue, with its depth, oldest message and poison count;
- ``POST /admin/queues/{name}/messages``: put a message, given as ``{"message": ...}`` with
  ``Content-Type: application/json`` (a string is stored as it is, any other value as JSON)
  or as the raw body, as text (201);
- ``GET /admin/queues/{name}/messages?peek=N``: the first N messages, left on the queue;
- ``DELETE /admin/queues/{name}/messages``: purge the queue (admins).

A name that is not a valid queue name is 400, a queue nobody reads or writes and holding
nothing 404, a message over PERDURA_MAX_PAYLOAD_BYTES 413. Keys and roles are the API's: a
missing, unknown or revoked key is 401, a role without the permission 403.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from functions.models import QueuedMessage
from functions.services import queues
from orchestrations.access import apikeys
from orchestrations.access.audit import Actor
from orchestrations.access.roles import role_can
from orchestrations.engine import serialization
from orchestrations.services.status import iso_time

logger = logging.getLogger("perdura.api")

#: Where a key comes, as for the rest of the API (orchestrations/api/auth.py), which the doors'
#: independence keeps this module from importing: the header wins over the query parameter.
KEY_HEADER = "x-functions-key"
KEY_QUERY_PARAMETER = "code"

#: The status code of each refusal of the queue services.
STATUS_OF_ERROR: dict[type[queues.QueueError], int] = {
    queues.InvalidQueueInputError: 400,
    queues.UnknownQueueError: 404,
    queues.MessageTooLargeError: 413,
    queues.QueueNotAllowedError: 403,
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JsonResponse:
    """The API's error JSON (``Message``, as Durable Functions' HttpError has it)."""
    return JsonResponse({"Message": message}, status=status)


Handler = Callable[..., HttpResponse]


def endpoint(**handlers: tuple[str, Handler]) -> Callable[..., HttpResponse]:
    """One URL's view: each method's handler with the permission its key's role needs."""
    allowed = ", ".join(sorted(handlers))

    @csrf_exempt  # Clients authenticate with API keys, never with cookies.
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method not in handlers:
            response = error_response(405, f"{request.method} is not allowed here; use {allowed}")
            response["Allow"] = allowed
            return response
        codename, handler = handlers[request.method]
        try:
            actor = _caller(request, codename)
            return handler(request, actor, **kwargs)
        except Refused as refused:
            return error_response(refused.status, refused.message)
        except queues.QueueError as error:
            return error_response(
                next(code for kind, code in STATUS_OF_ERROR.items() if isinstance(error, kind)), str(error)
            )
        except RequestDataTooBig:
            return error_response(413, "the request body is too large")
        except Exception:
            logger.exception("queue API request failed: %s %s", request.method, request.path)
            return error_response(500, "Something went wrong while processing your request")

    return view


def _caller(request: HttpRequest, codename: str) -> Actor:
    """The actor of an active key whose role may ``codename``: 401 without one, 403 if the role may not."""
    plain_key = request.headers.get(KEY_HEADER) or request.GET.get(KEY_QUERY_PARAMETER)
    if not plain_key:
        raise Refused(
            401,
            f"an API key is required: send it in the {KEY_HEADER} header or the {KEY_QUERY_PARAMETER} query parameter",
        )
    api_key = apikeys.authenticate(plain_key)
    if api_key is None:
        raise Refused(401, "the API key is not valid (unknown or revoked)")
    if not role_can(api_key.role, codename):
        raise Refused(403, f"an API key with the role {api_key.role!r} may not do this ({codename})")
    return Actor.for_api_key(api_key)


def list_queues(request: HttpRequest, actor: Actor) -> HttpResponse:
    return JsonResponse([_summary_json(summary) for summary in queues.list_queues()], safe=False)


def put_message(request: HttpRequest, actor: Actor, queue_name: str) -> HttpResponse:
    try:
        text = request.body.decode(request.encoding or "utf-8")
    except (UnicodeDecodeError, LookupError):
        raise Refused(400, "the request body is not text in its declared encoding (UTF-8 by default)") from None
    if request.content_type.lower() == "application/json":
        try:
            body = serialization.parse(text, "the request body")
        except serialization.InvalidJsonError as error:
            raise Refused(400, f"Invalid JSON content: {error}") from None
        if not isinstance(body, dict) or "message" not in body:
            raise Refused(400, 'a JSON body is an object with the message in "message": {"message": ...}')
        value = body["message"]
    else:
        value = text
    message = queues.put(queue_name, value, actor=actor)
    return JsonResponse(_message_json(message), status=201)


def peek_messages(request: HttpRequest, actor: Actor, queue_name: str) -> HttpResponse:
    text = request.GET.get("peek", "1")
    try:
        count = int(text)
    except ValueError:
        raise Refused(400, f"the query parameter peek must be a whole number, not {text!r}") from None
    return JsonResponse([_message_json(message) for message in queues.peek(queue_name, count)], safe=False)


def purge_queue(request: HttpRequest, actor: Actor, queue_name: str) -> HttpResponse:
    deleted = queues.purge(queue_name, actor=actor)
    return JsonResponse({"queue": queue_name, "deleted": deleted})


def _message_json(message: QueuedMessage) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "queue": message.queue,
        "body": message.body,
        "dequeueCount": message.dequeue_count,
        "insertionTime": iso_time(message.inserted_at),
        "expirationTime": iso_time(message.expires_at),
        "timeNextVisible": iso_time(message.visible_at),
        "lastError": message.last_error or None,
    }


def _summary_json(summary: queues.QueueSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "depth": summary.depth,
        "visible": summary.visible,
        "oldestInsertionTime": iso_time(summary.oldest_inserted_at) if summary.oldest_inserted_at else None,
        "poisonCount": summary.poison_count,
        "isPoison": summary.is_poison,
        "readers": list(summary.readers),
        "writers": list(summary.writers),
    }


queue_list = endpoint(GET=("view_console", list_queues))
queue_messages = endpoint(
    GET=("view_console", peek_messages),
    POST=("put_queue_message", put_message),
    DELETE=("purge_queue", purge_queue),
)

urlpatterns = [
    re_path(r"^admin/queues/?\Z", queue_list),
    re_path(r"^admin/queues/(?P<queue_name>[^/]+)/messages/?\Z", queue_messages),
]
