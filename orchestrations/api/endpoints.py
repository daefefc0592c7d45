"""What every route of the API shares: one view per URL that dispatches on the method, JSON
for every answer (errors included), service errors turned into their status codes, and logs
that never show a key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from entities.services import EntityNotFoundError
from orchestrations.services import (
    BadInputError,
    InstanceExistsError,
    InstanceFinishedError,
    InstanceNotFoundError,
    InvalidStateError,
    NotAllowedError,
    OrchestrationError,
)
from orchestrations.store import metrics, tracing

logger = logging.getLogger("perdura.api")

#: The status code of each service error, unless a view says otherwise (rewinding and purging
#: an instance in the wrong state is 412 in Durable Functions, restarting over a running one 409).
STATUS_OF_ERROR: dict[type[OrchestrationError], int] = {
    BadInputError: 400,
    InstanceNotFoundError: 404,
    EntityNotFoundError: 404,
    InstanceFinishedError: 410,
    InstanceExistsError: 409,
    InvalidStateError: 409,
    NotAllowedError: 403,
}

#: A key given in the path (the official client's base URL): what the logs show instead.
_KEY_IN_PATH = re.compile(r"(/runtime/webhooks/durabletask/sdk/)[^/]+")

Handler = Callable[..., HttpResponse]


class ApiError(Exception):
    """An answer other than success, raised from anywhere below a view."""

    def __init__(self, status: int, message: str, *, exception: Exception | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.exception = exception


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JsonResponse:
    # safe=False: a body may be any JSON value (an output, an entity's state), not only an object.
    return JsonResponse(data, status=status, headers=headers, safe=False, json_dumps_params={"ensure_ascii": False})


def error_response(status: int, message: str, exception: Exception | None = None) -> JsonResponse:
    """The error JSON of Durable Functions (ASP.NET's HttpError): ``Message``, and for a request
    the service refused, ``ExceptionMessage`` and ``ExceptionType``, which the official Python
    client reads."""
    body = {"Message": message}
    if exception is not None:
        body["ExceptionMessage"] = str(exception)
        body["ExceptionType"] = type(exception).__name__
    return json_response(body, status)


def endpoint(**handlers: Handler) -> Callable[..., HttpResponse]:
    """The view of one URL: ``handlers`` maps each allowed method to its handler."""
    allowed = ", ".join(sorted(handlers))

    @csrf_exempt  # Clients authenticate with API keys, never with cookies.
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is None:
            response = error_response(405, f"{request.method} is not allowed here; use {allowed}")
            response["Allow"] = allowed
        else:
            # A server span, under the caller's traceparent if it sent one: an instance started
            # here carries it on (store/tracing.py).
            with tracing.span(f"{request.method} {handler.__name__}", headers=request.headers, server=True) as span:
                response = _respond(handler, request, kwargs)
                if span is not None:
                    span.set_attribute("http.response.status_code", response.status_code)
                    if response.status_code >= 500:
                        tracing.failed(span, f"answered {response.status_code}")
        return _logged(request, response, handler.__name__ if handler else "method_not_allowed")

    return view


@csrf_exempt  # Else a POST to an unknown path would get the CSRF failure page, in HTML.
def not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Any path under the API's prefixes that no route matches."""
    return _logged(request, error_response(404, "no API route matches this path; see docs/openapi.json"), "not_found")


def _respond(handler: Handler, request: HttpRequest, kwargs: dict[str, Any]) -> HttpResponse:
    try:
        return handler(request, **kwargs)
    except ApiError as error:
        return error_response(error.status, error.message, error.exception)
    except OrchestrationError as error:
        status = next(code for kind, code in STATUS_OF_ERROR.items() if isinstance(error, kind))
        return error_response(status, str(error), error)
    except RequestDataTooBig:
        return error_response(413, "the request body is too large")
    except SuspiciousOperation as error:
        # Django's refusals of a request it cannot safely read (too many query fields, say).
        return error_response(400, str(error) or "the request cannot be read")
    except Exception:
        logger.exception("API request failed: %s %s", request.method, redacted_path(request.path))
        return error_response(500, "Something went wrong while processing your request")


def _logged(request: HttpRequest, response: HttpResponse, route: str) -> HttpResponse:
    """Count the request for /metrics under ``route`` (its handler's name: bounded, unlike the
    path). Log a failed one as Django would, but with any key in the path redacted; and tell
    Django it has been logged, so that Django does not log the path with the key in it."""
    method = request.method if request.method in _METHODS else "other"
    metrics.inc(metrics.API_REQUESTS, route, method, str(response.status_code))
    if 400 <= response.status_code < 500:
        logger.warning("%s %s: %s", request.method, redacted_path(request.path), response.status_code)
    response._has_been_logged = True
    return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def redacted_path(path: str) -> str:
    return _KEY_IN_PATH.sub(r"\1<key>", path)
