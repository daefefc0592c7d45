"""The check-status payload: the management URLs of an instance, as Durable Functions hands
them out when an instance starts (``CreateCheckStatusResponse``)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpRequest, JsonResponse

from orchestrations.api.auth import KEY_QUERY_PARAMETER, Caller
from orchestrations.api.endpoints import json_response
from orchestrations.api.openapi import PREFIX

#: How long a client should wait before it polls a started instance, in seconds (Azure's value).
CHECK_STATUS_RETRY_AFTER = "10"


def management_urls(request: HttpRequest, caller: Caller, instance_id: str) -> dict[str, str]:
    """``{eventName}`` and ``{text}`` are placeholders for the client to fill in, as on Azure."""
    instance_url = request.build_absolute_uri(f"{PREFIX}/instances/{quote(instance_id, safe='')}")
    key = f"{KEY_QUERY_PARAMETER}={quote(caller.key_in_url, safe='')}" if caller.key_in_url else ""

    def url(operation: str = "", query: str = "") -> str:
        parameters = "&".join(part for part in (query, key) if part)
        return f"{instance_url}{operation}" + (f"?{parameters}" if parameters else "")

    return {
        "id": instance_id,
        "statusQueryGetUri": url(),
        "sendEventPostUri": url("/raiseEvent/{eventName}"),
        "terminatePostUri": url("/terminate", "reason={text}"),
        "rewindPostUri": url("/rewind", "reason={text}"),
        "purgeHistoryDeleteUri": url(),
        "restartPostUri": url("/restart"),
        "suspendPostUri": url("/suspend", "reason={text}"),
        "resumePostUri": url("/resume", "reason={text}"),
    }


def check_status_response(request: HttpRequest, caller: Caller, instance_id: str) -> JsonResponse:
    """202 with the management URLs; ``Location`` is the status URL (the async HTTP pattern)."""
    payload = management_urls(request, caller, instance_id)
    return json_response(
        payload,
        status=202,
        headers={"Location": payload["statusQueryGetUri"], "Retry-After": CHECK_STATUS_RETRY_AFTER},
    )
