"""The check-status response of the HTTP API's starter (the payload itself is built by
orchestrations/services/links.py, which the durable client binding shares)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from orchestrations.api.auth import Caller
from orchestrations.api.endpoints import json_response
from orchestrations.services.links import MANAGEMENT_PREFIX, check_status_headers
from orchestrations.services.links import management_urls as _management_urls


def management_urls(request: HttpRequest, caller: Caller, instance_id: str) -> dict[str, str]:
    return _management_urls(request.build_absolute_uri(MANAGEMENT_PREFIX), instance_id, caller.key_in_url)


def check_status_response(request: HttpRequest, caller: Caller, instance_id: str) -> JsonResponse:
    """202 with the management URLs; ``Location`` is the status URL (the async HTTP pattern)."""
    payload = management_urls(request, caller, instance_id)
    return json_response(payload, status=202, headers=check_status_headers(payload))
