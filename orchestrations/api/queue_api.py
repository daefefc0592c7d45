"""Durable queues over HTTP, with the API's keys and roles:

- ``GET /admin/queues``: every queue, with its depth, oldest message and poison count;
- ``POST /admin/queues/{name}/messages``: put a message, given as ``{"message": ...}`` with
  ``Content-Type: application/json`` (a string is stored as it is, any other value as JSON)
  or as the raw body, as text (201);
- ``GET /admin/queues/{name}/messages?peek=N``: the first N messages, left on the queue;
- ``DELETE /admin/queues/{name}/messages``: purge the queue (admins).

A name that is not a valid queue name is 400, a queue nobody reads or writes and holding
nothing 404, a message over PERDURA_MAX_PAYLOAD_BYTES 413. Keys and roles are the API's
(auth.py): a missing, unknown or revoked key is 401, a role without the permission 403. Here,
not under functions/http, because the doors do not import one another and the keys are this
door's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import re_path

from functions.models import QueuedMessage
from functions.services import queues
from orchestrations.api import params
from orchestrations.api.auth import Caller, requires
from orchestrations.api.endpoints import ApiError, endpoint, json_response
from orchestrations.services.status import iso_time

#: The status code of each refusal of the queue services.
STATUS_OF_ERROR: dict[type[queues.QueueError], int] = {
    queues.InvalidQueueInputError: 400,
    queues.UnknownQueueError: 404,
    queues.MessageTooLargeError: 413,
    queues.QueueNotAllowedError: 403,
}


def _answering_refusals(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer the queue services' refusals with their status codes."""

    @functools.wraps(handler)
    def answer(request: HttpRequest, caller: Caller, **kwargs: Any) -> HttpResponse:
        try:
            return handler(request, caller, **kwargs)
        except queues.QueueError as error:
            status = next(code for kind, code in STATUS_OF_ERROR.items() if isinstance(error, kind))
            raise ApiError(status, str(error)) from None

    return answer


@requires("view_console")
@_answering_refusals
def list_queues(request: HttpRequest, caller: Caller) -> HttpResponse:
    return json_response([_summary_json(summary) for summary in queues.list_queues()])


@requires("put_queue_message")
@_answering_refusals
def put_message(request: HttpRequest, caller: Caller, queue_name: str) -> HttpResponse:
    if params.is_json(request):
        body = params.json_body(request, caller)
        if not isinstance(body, dict) or "message" not in body:
            raise ApiError(400, 'a JSON body is an object with the message in "message": {"message": ...}')
        value = body["message"]
    else:
        value = params.text_body(request)
    message = queues.put(queue_name, value, actor=caller.actor)
    return json_response(_message_json(message), status=201)


@requires("view_console")
@_answering_refusals
def peek_messages(request: HttpRequest, caller: Caller, queue_name: str) -> HttpResponse:
    text = request.GET.get("peek", "1")
    try:
        count = int(text)
    except ValueError:
        raise ApiError(400, f"the query parameter peek must be a whole number, not {text!r}") from None
    return json_response([_message_json(message) for message in queues.peek(queue_name, count)])


@requires("purge_queue")
@_answering_refusals
def purge_queue(request: HttpRequest, caller: Caller, queue_name: str) -> HttpResponse:
    deleted = queues.purge(queue_name, actor=caller.actor)
    return json_response({"queue": queue_name, "deleted": deleted})


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


queue_list = endpoint(GET=list_queues)
queue_messages = endpoint(GET=peek_messages, POST=put_message, DELETE=purge_queue)

urlpatterns = [
    re_path(r"^admin/queues/?\Z", queue_list),
    re_path(r"^admin/queues/(?P<queue_name>[^/]+)/messages/?\Z", queue_messages),
]
