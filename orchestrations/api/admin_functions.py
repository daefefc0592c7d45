"""Azure's admin endpoint for running a function by hand: ``POST /admin/functions/{name}`` with
``{"input": ...}``, for a key whose role may ``invoke_function``.

Azure answers 202 and runs the function later. Here the function has run when the answer
goes out (functions/services/run_by_hand.py says why it runs in the request), so the answer
is 200 with what a caller would otherwise have to look up: the invocation's id, its status,
its output or error, and how many messages its output bindings put. A function that failed
is still a run that happened: 200, with status "Failed" and the error.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from functions.models import Invocation
from functions.services import run_by_hand
from orchestrations.api import params
from orchestrations.api.auth import Caller, requires
from orchestrations.api.endpoints import ApiError, endpoint, json_response
from orchestrations.engine.serialization import loads


@requires("invoke_function")
def run_function(request: HttpRequest, caller: Caller, name: str) -> HttpResponse:
    """200 with the finished invocation; 400 for a body that is not ``{"input": ...}`` or an
    HTTP function, 404 for an unknown function, 413 for an input over the payload limit."""
    body = params.json_body(request, caller)
    if body is None:
        body = {}
    if not isinstance(body, dict) or set(body) - {"input"}:
        raise ApiError(400, 'the body must be a JSON object {"input": ...} (the input may be any JSON value)')
    try:
        ran = run_by_hand.run(name, body.get("input"), actor=caller.actor)
    except run_by_hand.FunctionNotFoundError as error:
        raise ApiError(404, str(error)) from None
    except run_by_hand.InputTooLargeError as error:
        raise ApiError(413, str(error)) from None
    except run_by_hand.RunByHandError as error:
        raise ApiError(400, str(error)) from None
    return json_response(invocation_document(ran.invocation, ran.messages_put))


def invocation_document(invocation: Invocation, messages_put: int = 0) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": invocation.invocation_id,
        "functionName": invocation.function_name,
        "trigger": invocation.trigger,
        "status": invocation.status,
        "startedTime": invocation.started_at.isoformat(),
        "durationMs": round(invocation.duration.total_seconds() * 1000, 3) if invocation.duration else None,
        "output": _parsed(invocation.output),
        "messagesPut": messages_put,
    }
    if invocation.status == Invocation.Status.FAILED:
        document["error"] = {"type": invocation.error_type, "message": invocation.error_message}
    return document


def _parsed(text: str | None) -> Any:
    try:
        return loads(text)
    except ValueError:
        return text


run_function_view = endpoint(POST=run_function)
