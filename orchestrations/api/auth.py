"""Who may call the API: API keys, taken the ways Azure Functions takes its keys.

A key comes in the ``code`` query parameter or the ``x-functions-key`` header, as function
keys do on Azure. The official Python client (``DurableOrchestrationClient``) can send
neither: it builds every URL from the ``rpcBaseUrl`` of its binding and adds no headers. So
``/runtime/webhooks/durabletask/sdk/<key>/`` mirrors the API with the key in the path, to be
that ``rpcBaseUrl`` (see ``Caller.sdk_encoding`` for the one other difference there). The
logs never show a key: see ``endpoints.redacted_path``.

Each key carries a role; a route needs a permission of that role (``consoleapp.roles``). A
missing, unknown or revoked key is 401, a key whose role lacks the permission 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from orchestrations.access import apikeys, links
from orchestrations.access.audit import Actor
from orchestrations.access.roles import READ, is_read_only, role_can
from orchestrations.api.endpoints import error_response
from orchestrations.services.links import instance_created_at

KEY_QUERY_PARAMETER = "code"
KEY_HEADER = "x-functions-key"


@dataclass(frozen=True)
class Caller:
    """Who an authenticated request comes from, and how it carried its key."""

    #: The key's name, for the audit log.
    actor: Actor
    #: The plain key when the request carried it in its URL (``code`` or the path): the links
    #: handed back then carry it too, so that they work as given, as Azure's links do. None
    #: when it came in a header: such a client adds the header to the links itself.
    key_in_url: str | None
    #: Requests through the official Python client's base URL. That client JSON-encodes its
    #: payloads twice (``json.dumps`` of what ``json.dumps`` made), and on Azure its language
    #: worker decodes them twice too; so here a body that is a JSON string holding JSON text
    #: stands for that JSON value.
    sdk_encoding: bool


def requires(codename: str) -> Callable[..., Callable[..., HttpResponse]]:
    """Let the request through only with an active key whose role may ``codename``; the handler
    gets the ``Caller`` after the request."""

    def decorator(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(handler)
        def guarded(request: HttpRequest, *, path_key: str | None = None, **kwargs: Any) -> HttpResponse:
            # A request made in this process for a function's durable client (api/inprocess.py):
            # no HTTP request can carry this attribute.
            internal: Caller | None = getattr(request, "perdura_caller", None)
            if internal is not None:
                if codename not in READ and is_read_only():
                    return error_response(403, f"Perdura is read-only: nobody may change anything ({codename})")
                return handler(request, internal, **kwargs)
            plain_key, in_url = _key_of(request, path_key)
            if not plain_key:
                return error_response(
                    401,
                    f"an API key is required: send it in the {KEY_HEADER} header or the {KEY_QUERY_PARAMETER} "
                    "query parameter",
                )
            if links.is_link_key(plain_key):
                return _through_link(request, handler, codename, plain_key, in_url, path_key is not None, kwargs)
            api_key = apikeys.authenticate(plain_key)
            if api_key is None:
                return error_response(401, "the API key is not valid (unknown or revoked)")
            if not role_can(api_key.role, codename):
                return error_response(403, f"an API key with the role {api_key.role!r} may not do this ({codename})")
            key_in_url = plain_key if in_url else None
            caller = Caller(Actor.for_api_key(api_key), key_in_url, sdk_encoding=path_key is not None)
            return handler(request, caller, **kwargs)

        return guarded

    return decorator


def _through_link(
    request: HttpRequest,
    handler: Callable[..., HttpResponse],
    codename: str,
    plain_key: str,
    in_url: bool,
    sdk_encoding: bool,
    kwargs: dict[str, Any],
) -> HttpResponse:
    """A request with a link key (access/links.py): only for its own instance's routes, and only
    what such a key allows there."""
    instance_id = kwargs.get("instance_id")
    created_at = instance_created_at(instance_id) if instance_id else None
    if not links.opens(plain_key, instance_id, created_at):
        return error_response(401, "the link key is not valid here: it opens only the instance it was handed out for")
    if codename not in links.LINK_PERMISSIONS:
        return error_response(403, f"a link key may not do this ({codename}); it needs an API key")
    if codename not in READ and is_read_only():
        return error_response(403, f"Perdura is read-only: nobody may change anything ({codename})")
    caller = Caller(links.actor_for(instance_id), plain_key if in_url else None, sdk_encoding)
    return handler(request, caller, **kwargs)


def _key_of(request: HttpRequest, path_key: str | None) -> tuple[str | None, bool]:
    """The key the request carries, and whether it is in the URL. A key in the path is the
    official client's; otherwise, as on Azure, the header wins over the query parameter."""
    if path_key:
        return path_key, True
    if header_key := request.headers.get(KEY_HEADER):
        return header_key, False
    return request.GET.get(KEY_QUERY_PARAMETER), True
