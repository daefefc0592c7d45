"""HTTP functions served straight from ASGI, beside Django's handler rather than through it.

Django's ASGI handler runs the console's whole middleware stack (sessions, CSRF, login,
messages, htmx, axes) for every request, with thread hops between its sync and async parts;
for a function that answers "hello" that is most of the cost of a request. A request whose
path resolves to the HTTP functions' URL pattern (functions/http/urls.py) is served here
instead: its body read (capped), then in one hop to a thread of our own, Django's
``request_started`` signal, the middleware named in PERDURA_HTTP_FUNCTION_MIDDLEWARE (the
security headers and checks: allowed hosts, HTTPS redirect, NUL refusal, nosniff, frame
denial), the same view as before (functions/http/views.py), and ``request_finished``; the
thread's database connection, if the function used one, is closed then. Everything else,
websockets included, goes to Django.

The path is resolved with the site's own URLconf, so the console's patterns still take
precedence over the functions' exactly as they do in Django, whatever the prefix.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.handlers.asgi import ASGIHandler, ASGIRequest, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.db import connections
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_resolver, set_script_prefix
from django.utils.module_loading import import_string

from functions.http.urls import URL_NAME
from functions.registry import registry

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

#: Paths up to this long have where they resolve cached (the URLconf walks some sixty patterns
#: before the functions'); longer ones, rare and possibly hostile, are resolved every time.
CACHED_PATH_LENGTH = 256


class FunctionsFirst:
    """The ASGI application for HTTP: the HTTP functions' requests served here, any other
    request (and every other protocol) passed to ``django_application`` untouched."""

    def __init__(self, django_application: ASGIHandler) -> None:
        self.django_application = django_application
        self.prefix = f"/{settings.PERDURA_HTTP_ROUTE_PREFIX}".lower().rstrip("/")
        self.executor = ThreadPoolExecutor(settings.PERDURA_HTTP_FUNCTION_THREADS, thread_name_prefix="http-function")
        self.view_middleware: list[Callable[..., HttpResponseBase | None]] = []
        handler: Callable[[HttpRequest], HttpResponseBase] = convert_exception_to_response(self._view)
        # As Django's BaseHandler.load_middleware builds its chain, for sync middleware.
        for dotted_path in reversed(settings.PERDURA_HTTP_FUNCTION_MIDDLEWARE):
            middleware = import_string(dotted_path)(handler)
            if hasattr(middleware, "process_view"):
                self.view_middleware.insert(0, middleware.process_view)
            handler = convert_exception_to_response(middleware)
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self._match(scope) if scope["type"] == "http" else None
        if match is None:
            await self.django_application(scope, receive, send)
            return
        body = await _read_body(scope, receive, settings.PERDURA_MAX_REQUEST_BYTES)
        if body is None:
            return  # The client went away; nobody is left to answer.
        # As Django's handler makes its requests: a query that is not UTF-8 is answered 400.
        request, refusal = self.django_application.create_request(scope, io.BytesIO(body))
        if refusal is not None:
            await self.django_application.send_response(refusal, send)
            return
        set_script_prefix(get_script_prefix(scope))
        request.resolver_match = match
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(self.executor, context.run, self._respond, request)
        await self.django_application.send_response(response, send)

    def _match(self, scope: Scope) -> ResolverMatch | None:
        """The functions' pattern's match for this request's path, or None when the path is not
        under the prefix or another pattern (or none) takes it."""
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if self.prefix and not (path.lower() + "/").startswith(self.prefix + "/"):
            return None
        if len(path) > CACHED_PATH_LENGTH:
            return _resolve(path)
        # A path resolves the same way until a function app registers again (tests do). The
        # environment that can disable a function is not looked at again for a cached path: on
        # Azure too, changing an app setting restarts the app.
        return _cached_resolve(path, registry.version)

    def _respond(self, request: ASGIRequest) -> HttpResponseBase:
        """In a thread of the pool: the request from start to finish, as Django runs one."""
        signals.request_started.send(sender=self.__class__, scope=request.scope)
        try:
            response = self.handler(request)
            # CommonMiddleware gives a length to what it sees; an error page made above it has none.
            if not response.streaming and not response.has_header("Content-Length"):
                response.headers["Content-Length"] = str(len(response.content))
            # The response is whole (the view makes no streaming ones): closing it sends
            # request_finished here, in the thread that served it.
            response.close()
            return response
        finally:
            # No connection is kept between requests, as Django advises under ASGI: a pool
            # thread may sit idle for hours, and a test database could not be dropped.
            connections.close_all()

    def _view(self, request: HttpRequest) -> HttpResponseBase:
        match = request.resolver_match
        for process_view in self.view_middleware:
            refusal = process_view(request, match.func, match.args, match.kwargs)
            if refusal is not None:
                return refusal
        return match.func(request, *match.args, **match.kwargs)


def _resolve(path: str) -> ResolverMatch | None:
    try:
        match = get_resolver().resolve(path)
    except Resolver404:
        return None
    return match if match.url_name == URL_NAME else None


@functools.lru_cache(maxsize=4096)
def _cached_resolve(path: str, registry_version: int) -> ResolverMatch | None:
    return _resolve(path)


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The body, read no further than one byte past ``limit``: the view answers 413 to a body
    over it, and to a declared Content-Length over it before anything is read. None when the
    client disconnected."""
    if _declared_length(scope) > limit:
        return b""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body", False):
            return b"".join(chunks)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
