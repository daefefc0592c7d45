"""HTTP functions served beside Django's handler (functions/http/asgi.py): what takes that path
and what does not, the checks and headers it keeps from the middleware, and the body limit
before anything is read. Routing, keys and answers through it are in test_http_routing.py and
test_http_keys.py, which run through both paths."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings

from consoleapp.asgi import application, http_application
from functions.http import asgi, urls
from functions.models import Invocation
from functions.registry import registry
from functions.worker import recorder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_recorder")]

HELLO = "/api/httptest/hello"


class Spy:
    """Django's ASGI handler, counting the requests it is given."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.paths.append(scope["path"])
        await self.handler(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handler, name)


def scope_for(path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None, query: bytes = b""):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }


def serve(app, scope, messages: list[dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Call ``app`` with ``messages`` as the request body; return what it sent and how many
    messages it asked for."""
    queue = list(messages if messages is not None else [{"type": "http.request", "body": b""}])
    sent: list[dict[str, Any]] = []
    asked = 0

    async def receive():
        nonlocal asked
        asked += 1
        if queue:
            return queue.pop(0)
        await asyncio.Future()  # Stays connected until answered.

    async def send(message):
        sent.append(message)

    async_to_sync(app)(scope, receive, send)
    return sent, asked


def status_headers_body(sent: list[dict[str, Any]]) -> tuple[int, dict[str, str], bytes]:
    start, *parts = sent
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, b"".join(part.get("body", b"") for part in parts)


@pytest.fixture
def spied(monkeypatch) -> Spy:
    """The application a server calls, with Django's handler behind a spy."""
    served_first = application.application_mapping["http"]
    spy = Spy(http_application)
    monkeypatch.setattr(served_first, "django_application", spy)
    return spy


def test_a_function_is_served_without_django_s_handler_and_a_console_page_with_it(spied):
    sent, _ = serve(application, scope_for(HELLO, query=b"name=Ada"))
    status, _, body = status_headers_body(sent)

    assert (status, body) == (200, b"hello Ada")
    assert spied.paths == []
    serve(application, scope_for("/healthz"))
    assert spied.paths == ["/healthz"]


def test_paths_no_function_claims_go_to_django(spied):
    for path in ["/api/httptest/nothing-here", "/api/orchestrators/httptest_orders", "/apix/httptest/hello"]:
        serve(application, scope_for(path, method="POST"))

    assert spied.paths == ["/api/httptest/nothing-here", "/api/orchestrators/httptest_orders", "/apix/httptest/hello"]


def test_the_security_headers_are_kept_and_no_session_is_made(spied):
    sent, _ = serve(application, scope_for(HELLO))
    _, headers, body = status_headers_body(sent)

    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["content-length"] == str(len(body))
    assert "set-cookie" not in headers


def test_a_host_not_allowed_is_400_and_the_function_does_not_run(spied):
    sent, _ = serve(application, scope_for(HELLO, headers=[(b"host", b"evil.example")]))

    assert status_headers_body(sent)[0] == 400
    assert recorder.flush() == 0
    assert spied.paths == []


def test_a_nul_in_the_path_is_refused(spied):
    sent, _ = serve(application, scope_for("/api/httptest/orders/a\x00b"))

    assert status_headers_body(sent)[0] == 400
    assert recorder.flush() == 0


def test_https_is_required_where_the_console_requires_it(settings):
    settings.SECURE_SSL_REDIRECT = True
    served_first = asgi.FunctionsFirst(http_application)  # The middleware reads its settings when made.

    sent, _ = serve(served_first, scope_for(HELLO))
    status, headers, _ = status_headers_body(sent)

    assert (status, headers["location"]) == (301, f"https://testserver{HELLO}")
    assert recorder.flush() == 0


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(settings):
    settings.PERDURA_MAX_REQUEST_BYTES = 1024
    scope = scope_for("/api/httptest/echo", "POST", [(b"host", b"testserver"), (b"content-length", b"1025")])

    sent, asked = serve(application, scope)

    assert status_headers_body(sent)[0] == 413
    assert asked == 0
    assert recorder.flush() == 0


def test_a_body_without_a_length_is_read_no_further_than_the_limit(settings):
    settings.PERDURA_MAX_REQUEST_BYTES = 1024
    chunks = [{"type": "http.request", "body": b"x" * 600, "more_body": True} for _ in range(5)]

    sent, asked = serve(application, scope_for("/api/httptest/echo", "POST"), chunks)

    assert status_headers_body(sent)[0] == 413
    assert asked == 2  # 1,200 bytes: over the limit, so the other three chunks were never read.
    assert recorder.flush() == 0


def test_a_body_in_several_messages_reaches_the_function_whole(settings):
    chunks = [
        {"type": "http.request", "body": b"a,b\n", "more_body": True},
        {"type": "http.request", "body": b"1,2", "more_body": False},
    ]

    sent, _ = serve(application, scope_for("/api/httptest/echo", "POST"), chunks)

    assert status_headers_body(sent)[::2] == (201, b"a,b\n1,2")


def test_a_client_gone_before_its_body_arrived_gets_nothing_and_runs_nothing():
    messages = [{"type": "http.request", "body": b"a", "more_body": True}, {"type": "http.disconnect"}]

    sent, _ = serve(application, scope_for("/api/httptest/echo", "POST"), messages)

    assert sent == []
    assert recorder.flush() == 0


def test_an_answer_is_recorded_as_an_invocation():
    sent, _ = serve(application, scope_for("/api/httptest/orders/42"))
    recorder.flush()

    assert status_headers_body(sent)[0] == 200
    row = Invocation.objects.get()
    assert (row.function_name, row.status_code, row.trigger) == ("http_order", 200, Invocation.Trigger.HTTP)


def test_where_a_path_resolves_is_cached_until_the_functions_change(monkeypatch):
    path = "/api/httptest/not-yet-a-route"
    served_first = asgi.FunctionsFirst(http_application)
    assert served_first._match(scope_for(path)) is None

    # A function registered for it: FunctionRoutePattern now matches, once the registry says
    # it changed (a registration counts up its version).
    monkeypatch.setattr(urls, "matching_functions", lambda _path: [object()])
    assert served_first._match(scope_for(path)) is None
    monkeypatch.setattr(registry, "version", registry.version + 1)
    match = served_first._match(scope_for(path))
    assert match is not None
    assert match.kwargs == {"path": "httptest/not-yet-a-route"}


def test_the_function_middleware_is_the_console_s_in_the_same_order():
    chosen = django_settings.PERDURA_HTTP_FUNCTION_MIDDLEWARE
    positions = [django_settings.MIDDLEWARE.index(path) for path in chosen]

    assert positions == sorted(positions)


def test_a_query_that_is_not_utf8_is_400_as_in_django_s_handler():
    sent, _ = serve(application, scope_for(HELLO, query=b"name=\xff"))

    assert status_headers_body(sent)[0] == 400
    assert recorder.flush() == 0
