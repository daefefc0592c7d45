"""Serving HTTP functions (tests/function_apps_http.py): routing, what each return type
answers, request limits, failures, and the invocation row of every request."""

from __future__ import annotations

import json

import pytest

from functions.models import Invocation, QueuedMessage
from functions.worker import recorder

# Rows are written by the recorder, whose background thread uses a connection of its own:
# each test commits, so that every thread sees the same rows.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_recorder")]


@pytest.fixture
def client(function_client):
    """Every test here runs through Django's handler and as a server calls the application."""
    return function_client


def invocation_of(response) -> Invocation:
    recorder.flush()
    return Invocation.objects.get(invocation_id=response.json()["invocationId"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/httptest/orders/42", {"id": 42, "route": "typed"}),
        ("/api/httptest/orders/latest", {"route": "literal"}),
        ("/api/httptest/orders/abc", {"name": "abc", "route": "untyped"}),
        ("/api/HTTPTEST/Orders/7", {"id": 7, "route": "typed"}),
        ("/api/httptest/pages", {"page": None}),
        ("/api/httptest/pages/3", {"page": "3"}),
        ("/api/httptest/files/a/b/c.txt", {"path": "a/b/c.txt"}),
        ("/api/httptest/files", {"path": ""}),
    ],
)
def test_routes_pick_the_most_specific_function(client, path, expected):
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == expected


def test_an_unmatched_path_under_the_prefix_is_a_json_404(client):
    response = client.post("/api/httptest/nothing-here")

    assert response.status_code == 404
    assert "no HTTP function" in response.json()["Message"]


def test_a_matched_path_with_another_method_is_405_with_allow(client):
    response = client.post("/api/httptest/orders/5")

    assert response.status_code == 405
    assert response["Allow"] == "DELETE, GET"


def test_a_user_route_takes_precedence_over_the_built_in_starter(client):
    response = client.post("/api/orchestrators/httptest_shadowed")

    assert response.json() == {"served_by": "user route"}


def test_the_built_in_starter_still_serves_other_orchestrators(client):
    response = client.post("/api/orchestrators/httptest_orders")

    # The built-in starter's own answer: it wants an API key.
    assert response.status_code == 401
    assert "API key" in response.json()["Message"]


def test_the_request_reaches_the_function_whole(client):
    response = client.post(
        "/api/httptest/echo?x=1", data=b"a,b\n1,2", content_type="text/csv", headers={"X-Note": "hi"}
    )

    assert response.status_code == 201
    assert response.content == b"a,b\n1,2"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["X-Echo"] == "hi"


def test_params_and_a_str_answer_as_text(client):
    response = client.get("/api/httptest/hello", {"name": "Ada"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"hello Ada"


@pytest.mark.parametrize(
    ("kind", "status", "content_type", "body"),
    [
        ("text", 200, "text/plain; charset=utf-8", b"plain text"),
        ("bytes", 200, "application/octet-stream", b"\x00\x01binary"),
        ("none", 204, None, b""),
        ("json", 200, "application/json; charset=utf-8", b'{"items": [1, 2.5, "three", null, true]}'),
        ("list", 200, "application/json; charset=utf-8", b"[1, 2, 3]"),
        ("response", 418, "text/plain; charset=utf-8", b"made"),
    ],
)
def test_every_return_type_answers(client, kind, status, content_type, body):
    response = client.get(f"/api/httptest/kinds/{kind}")

    assert response.status_code == status
    assert response.get("Content-Type") == content_type
    assert response.content == body


def test_a_value_that_cannot_be_serialised_is_500_and_a_failed_invocation(client):
    response = client.get("/api/httptest/kinds/unserialisable")

    assert response.status_code == 500
    invocation = invocation_of(response)
    assert invocation.status == Invocation.Status.FAILED
    assert invocation.status_code == 500
    assert "not JSON serializable" in invocation.error_message


def test_an_unhandled_error_is_500_naming_the_invocation_and_the_traceback_stays_in_its_row(client):
    response = client.get("/api/httptest/boom")

    assert response.status_code == 500
    assert "the secret detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    invocation = invocation_of(response)
    assert invocation.invocation_id in response.json()["Message"]
    assert invocation.function_name == "http_boom"
    assert invocation.status == Invocation.Status.FAILED
    assert invocation.error_type == "RuntimeError"
    assert "the secret detail of a failure" in invocation.traceback
    assert "about to fail" in invocation.logs


def test_async_functions_work(client):
    assert client.get("/api/httptest/async/ada").json() == {"hello": "ada", "async": True}


def test_a_body_over_the_limit_is_413_and_the_function_does_not_run(client, settings):
    settings.PERDURA_MAX_REQUEST_BYTES = 1024

    response = client.post("/api/httptest/echo", data=b"x" * 1025, content_type="text/plain")

    assert response.status_code == 413
    assert recorder.flush() == 0


def test_a_body_at_the_limit_is_served(client, settings):
    settings.PERDURA_MAX_REQUEST_BYTES = 1024

    response = client.post("/api/httptest/echo", data=b"x" * 1024, content_type="text/plain")

    assert response.status_code == 201
    assert len(response.content) == 1024


def test_a_nul_in_the_query_is_refused(client):
    assert client.get("/api/httptest/hello", {"name": "a\x00b"}).status_code == 400


def test_the_recorder_writes_every_invocation(client):
    paths = ["/api/httptest/hello", "/api/httptest/orders/1", "/api/httptest/kinds/none", "/api/httptest/boom"]
    for path in paths:
        client.get(path)
    recorder.flush()

    rows = Invocation.objects.filter(trigger=Invocation.Trigger.HTTP).order_by("started_at")
    assert [(row.function_name, row.status_code) for row in rows] == [
        ("http_hello", 200),
        ("http_order", 200),
        ("http_kinds", 204),
        ("http_boom", 500),
    ]
    assert all(row.ended_at is not None and row.worker.startswith("web:") for row in rows)
    assert json.loads(rows[0].input) == {"method": "GET", "url": "/api/httptest/hello"}


def test_a_key_in_the_query_is_not_recorded(client):
    client.get("/api/httptest/hello", {"name": "x", "code": "pfk_secret"})
    recorder.flush()

    assert "pfk_secret" not in Invocation.objects.get().input


def test_queue_output_messages_are_written_before_the_answer(client):
    response = client.post("/api/httptest/enqueue", data=["one", {"two": 2}], content_type="application/json")

    assert response.status_code == 200
    assert sorted(QueuedMessage.objects.filter(queue="httptest-outbox").values_list("body", flat=True)) == [
        "one",
        '{"two": 2}',
    ]


def test_a_function_at_its_concurrency_limit_answers_429_with_retry_after(client):
    from functions.store.concurrency import acquire_slots, release_slots

    [number] = acquire_slots("httptest_limited", 1, 1, "another-web-process").numbers

    busy = client.get("/api/httptest/limited")

    assert busy.status_code == 429
    assert 1 <= int(busy["Retry-After"]) <= 30
    assert "already runs its limit of 1" in busy.json()["Message"]
    release_slots("httptest_limited", [number], "another-web-process")
    served = client.get("/api/httptest/limited")
    assert (served.status_code, served.content) == (200, b"ran")
