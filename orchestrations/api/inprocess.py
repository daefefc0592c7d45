"""The HTTP API, called in process: what the Azure SDK's own ``DurableOrchestrationClient``
reaches when an Azure function app runs on Perdura.

On Azure, a function's ``durableClient`` binding is JSON naming the management API's URLs,
and the SDK's client sends HTTP requests there (with aiohttp). Here the binding names
``BASE_URL``, an address no network serves, and the SDK's three request functions are
replaced by ones that send a request for that address straight to the API's views in this
process: the same routes, checks, answers and audit entries as over HTTP, without a server
to reach or a key to hand out. The caller is the function (``function:<name>`` in the audit
log), as for Perdura's own durable client; read-only mode holds as at every door. A request
for any other address goes to the SDK's own functions, unchanged. The management links the
client hands out carry a key that works, as on Azure (``function_starter_key``).
"""

from __future__ import annotations

import functools
import importlib
import io
import json
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.urls import Resolver404, URLResolver
from django.urls.resolvers import RegexPattern

from orchestrations.access.audit import Actor
from orchestrations.access.models import AuditLogEntry
from orchestrations.api import urls
from orchestrations.api.auth import Caller
from orchestrations.services.links import (
    KEY_QUERY_PARAMETER,
    MANAGEMENT_PREFIX,
    function_starter_key,
    instance_created_at,
    management_urls,
    with_key,
)

#: The client's ``rpcBaseUrl``: requests for it never leave the process.
BASE_URL = "http://perdura.in-process/runtime/webhooks/durabletask/"

_resolver = URLResolver(RegexPattern(r"^"), urls.routes)
_installed = False


def client_binding(function_name: str) -> str:
    """The JSON of a ``durableClient`` binding for ``function_name``, as the SDK's client reads
    it. Its management URLs are this server's (the SDK puts the origin of the request that
    came in into the ones it hands out)."""
    install()
    base = f"http://localhost{MANAGEMENT_PREFIX}"
    binding = {
        "taskHubName": settings.PERDURA_TASK_HUB,
        "creationUrls": {
            "createNewInstancePostUri": f"{base}/orchestrators/{{functionName}}",
            "createAndWaitOnNewInstancePostUri": f"{base}/orchestrators/{{functionName}}",
        },
        "managementUrls": management_urls(base, "INSTANCEID", None),
        "rpcBaseUrl": f"{BASE_URL}{_FUNCTION_MARKER}{quote(function_name, safe='')}/",
    }
    return json.dumps(binding)


#: The function a request comes from travels in its URL: ``BASE_URL`` + ``fn/<name>/`` + route.
_FUNCTION_MARKER = "fn/"


def install() -> None:
    """Put the in-process request functions into the SDK's client module (once per process)."""
    global _installed
    if _installed:
        return
    # The module, not the class of the same name that its package exports.
    client_module = importlib.import_module("azure.durable_functions.models.DurableOrchestrationClient")

    original_post = client_module.post_async_request
    original_get = client_module.get_async_request
    original_delete = client_module.delete_async_request

    async def post_async_request(url: str, data: Any = None, *args: Any, **kwargs: Any) -> list[Any]:
        if url.startswith(BASE_URL):
            return await request("POST", url, data)
        return await original_post(url, data, *args, **kwargs)

    async def get_async_request(url: str, *args: Any, **kwargs: Any) -> list[Any]:
        if url.startswith(BASE_URL):
            return await request("GET", url)
        return await original_get(url, *args, **kwargs)

    async def delete_async_request(url: str, *args: Any, **kwargs: Any) -> list[Any]:
        if url.startswith(BASE_URL):
            return await request("DELETE", url)
        return await original_delete(url, *args, **kwargs)

    client_class = client_module.DurableOrchestrationClient
    original_links = client_class.get_client_response_links
    original_start = client_class.start_new

    @functools.wraps(original_start)
    async def start_new(self: Any, *args: Any, **kwargs: Any) -> str:
        instance_id = await original_start(self, *args, **kwargs)
        created_at = await sync_to_async(instance_created_at)(instance_id)
        self.__dict__.setdefault("_perdura_started", {})[instance_id] = created_at
        return instance_id

    def get_client_response_links(self: Any, request: Any, instance_id: str) -> dict[str, str]:
        # On Azure the links carry the system key; here, the key the durable client of
        # Perdura's own HTTP functions gives them (services/links.function_starter_key): a
        # link key for an instance this client started, none for any other.
        payload = original_links(self, request, instance_id)
        if not (self._orchestration_bindings.rpc_base_url or "").startswith(BASE_URL):
            return payload
        code = request.params.get(KEY_QUERY_PARAMETER) if request is not None else None
        created_at = self.__dict__.get("_perdura_started", {}).get(instance_id)
        key = function_starter_key(instance_id, code, created_at)
        if key is None:
            return payload
        return {name: url if name == "id" else with_key(url, key) for name, url in payload.items()}

    client_module.post_async_request = post_async_request
    client_module.get_async_request = get_async_request
    client_module.delete_async_request = delete_async_request
    client_class.get_client_response_links = get_client_response_links
    client_class.start_new = start_new
    _installed = True


async def request(method: str, url: str, data: Any = None) -> list[Any]:
    """``[status, body]``, as the SDK's request functions return them. The view runs in the
    calling function's thread (``sync_to_async``), the one holding its database connection."""
    return await sync_to_async(serve)(method, url, data)


def serve(method: str, url: str, data: Any = None) -> list[Any]:
    parts = urlsplit(url)
    rest = url[len(BASE_URL) :].split("?", 1)[0]
    if not rest.startswith(_FUNCTION_MARKER):
        return [404, {"Message": "not an in-process API address"}]
    function_name, _, route = rest[len(_FUNCTION_MARKER) :].partition("/")
    # As RejectNulMiddleware refuses it at the HTTP door: PostgreSQL can neither store nor
    # compare text holding a NUL.
    if "\x00" in unquote(url) or (data is not None and "\\u0000" in json.dumps(data)):
        return [400, {"Message": "the request holds a NUL character (%00), which no field may"}]
    django_request = _request(method, parts, route, data)
    actor = Actor(f"function:{function_name}", AuditLogEntry.Source.API)
    django_request.perdura_caller = Caller(actor, None, sdk_encoding=True)  # type: ignore[attr-defined]
    try:
        match = _resolver.resolve(route)
    except Resolver404:
        return [404, {"Message": "no API route matches this path"}]
    response = match.func(django_request, *match.args, **match.kwargs)
    body = response.content
    return [response.status_code, json.loads(body) if body else None]


def _request(method: str, parts: Any, route: str, data: Any) -> HttpRequest:
    body = b"" if data is None else json.dumps(data).encode()
    request = HttpRequest()
    request.method = method
    request.path = request.path_info = f"{MANAGEMENT_PREFIX}/{route}"
    request.GET = QueryDict(parts.query)
    host = next((h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")), "localhost")
    request.META.update(
        {
            "REQUEST_METHOD": method,
            "HTTP_HOST": host,
            "SERVER_NAME": host,
            "SERVER_PORT": "80",
            "CONTENT_TYPE": "application/json" if data is not None else "",
            "CONTENT_LENGTH": str(len(body)),
            "QUERY_STRING": parts.query,
        }
    )
    request._set_content_type_params(request.META)  # As a WSGI or ASGI request sets it.
    request._body = body  # type: ignore[attr-defined]
    request._stream = io.BytesIO(body)  # type: ignore[attr-defined]
    request._read_started = False  # type: ignore[attr-defined]
    return request
