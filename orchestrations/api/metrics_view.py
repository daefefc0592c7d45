"""``/metrics``: Prometheus's scrape target (the figures: orchestrations/services/metrics.py).

Who may read it: a request from an address in ``PERDURA_METRICS_ALLOW_FROM`` (none by
default), or one with an API key whose role may read (every role may), sent as Prometheus
sends credentials (``Authorization: Bearer <key>``, the ``authorization`` block of a scrape
config) or as the HTTP API takes keys (``x-functions-key``, ``code``). Anything else is 401.
A metrics key is an ordinary API key, so it is hashed, listed, revocable and named in lists,
and a viewer key is enough.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from orchestrations.access import apikeys
from orchestrations.access.roles import role_can
from orchestrations.api.auth import KEY_HEADER, KEY_QUERY_PARAMETER
from orchestrations.services.metrics import CONTENT_TYPE, exposition


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(exposition(), content_type=CONTENT_TYPE)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    if _allowed_address(request.META.get("REMOTE_ADDR", "")):
        return None
    key = _key_of(request)
    if not key:
        return _plain(
            401,
            "an API key is required: send it as Authorization: Bearer <key>, or list Prometheus's address "
            "in PERDURA_METRICS_ALLOW_FROM",
        )
    api_key = apikeys.authenticate(key)
    if api_key is None:
        return _plain(401, "the API key is not valid (unknown or revoked)")
    if not role_can(api_key.role, "view_console"):
        return _plain(403, f"an API key with the role {api_key.role!r} may not read metrics")
    return None


def _key_of(request: HttpRequest) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get(KEY_HEADER) or request.GET.get(KEY_QUERY_PARAMETER)


def _allowed_address(address: str) -> bool:
    networks = settings.PERDURA_METRICS_ALLOW_FROM
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d.
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return any(ip in network for network in networks)


def _plain(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="perdura metrics"'
    return response
