"""Built-in activities: the durable HTTP call's request, made in an activity worker."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from django.conf import settings


def http_activity(request: dict[str, Any]) -> dict[str, Any]:
    """Make one HTTP request and return its status, headers and body, whatever the status:
    the orchestrator decides what a 4xx or 5xx means."""
    content = request.get("content")
    http_request = urllib.request.Request(
        request["uri"],
        data=content.encode() if content is not None else None,
        headers=request.get("headers") or {},
        method=request.get("method", "GET"),
    )
    if content is not None and not http_request.has_header("Content-type"):
        http_request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(http_request, timeout=settings.PERDURA_HTTP_TIMEOUT_SECONDS) as response:
            return _response_dict(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return _response_dict(error.code, error.headers, error.read())


def _response_dict(status: int, headers: Any, body: bytes) -> dict[str, Any]:
    return {
        "status_code": status,
        "headers": {key: value for key, value in headers.items()},
        "content": body.decode("utf-8", errors="replace"),
    }
