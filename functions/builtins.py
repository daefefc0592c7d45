"""Built-in activities: the durable HTTP call's request, made in an activity worker."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings

from functions import outbound_http


def http_activity(request: dict[str, Any]) -> dict[str, Any]:
    """Make one HTTP request and return its status, headers and body, whatever the status:
    the orchestrator decides what a 4xx or 5xx means. A URL it may not reach, a body over the
    payload limit or no answer in time fails the call (see ``outbound_http``)."""
    content = request.get("content")
    headers = dict(request.get("headers") or {})
    if content is not None and not any(key.lower() == "content-type" for key in headers):
        headers["Content-Type"] = "application/json"
    answer = outbound_http.request(
        str(request.get("method") or "GET").upper(),
        str(request["uri"]),
        body=content.encode() if content is not None else None,
        headers=headers,
        allowed=_allow_list(tuple(settings.PERDURA_HTTP_ALLOWED_HOSTS)),
        timeout=settings.PERDURA_HTTP_TIMEOUT_SECONDS,
        max_bytes=settings.PERDURA_MAX_PAYLOAD_BYTES,
    )
    return {
        "status_code": answer.status,
        "headers": answer.headers,
        "content": answer.body.decode("utf-8", errors="replace"),
    }


@lru_cache(maxsize=4)
def _allow_list(entries: tuple[str, ...]) -> outbound_http.AllowList:
    return outbound_http.AllowList.parse(entries)
