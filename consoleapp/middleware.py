"""Request checks that hold at every door served over HTTP (the console and the API alike)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse


class RejectNulMiddleware:
    """Refuse, with 400, a request whose path, query or form fields hold a NUL character. No id,
    name or filter holds one, and PostgreSQL cannot store or even compare text that does: such
    a value would reach the database as a 500 (or, written in a message, fail the checkpoint of
    the instance it was sent to). Runs after the CSRF check, as a view would."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable, args: Any, kwargs: Any) -> HttpResponse | None:
        try:
            fields = [request.path, *_values(request.GET)]
            if request.method == "POST" and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                request.body  # noqa: B018  Read (and kept) first, so that a view may still read the body.
                fields += _values(request.POST)
        except (SuspiciousOperation, RequestDataTooBig):
            return None  # Unreadable: the view refuses it in its own words (the API in JSON).
        if any("\x00" in field for field in fields):
            return JsonResponse({"Message": "the request holds a NUL character (%00), which no field may"}, status=400)
        return None


def _values(query) -> list[str]:
    return [key for key in query] + [value for values in query.lists() for value in values[1]]
