"""Async HTTP API: export_report POSTs to the simulated export service and the engine polls
its 202 answers until the export is ready."""

from __future__ import annotations

import json
import socket
import time

import pytest

from orchestrations import services
from orchestrations.engine.events import EventType
from tests.orchestrations.management.runner import durable
from tests.samples import COMPLETION_TIMEOUT


def test_the_export_service_answers_202_with_location_and_retry_after_until_ready(client):
    accepted = client.post("/samples/exports/", {"report": "sales", "seconds": 0.3}, content_type="application/json")

    assert accepted.status_code == 202
    assert accepted["Retry-After"] == "1"
    location = accepted["Location"]
    assert location.startswith("http://testserver/samples/exports/sales/")
    still_running = client.get(location)
    assert still_running.status_code == 202
    assert still_running["Location"] == location
    time.sleep(0.35)
    ready = client.get(location)
    assert ready.status_code == 200
    assert ready.json() == {"report": "sales", "status": "Ready"}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"seconds": 1}),
        json.dumps({"report": "../etc", "seconds": 1}),
        json.dumps({"report": "sales", "seconds": 3600}),
    ],
)
def test_the_export_service_refuses_a_bad_request(client, body):
    response = client.post("/samples/exports/", body, content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()


def test_starting_an_export_needs_post(client):
    assert client.get("/samples/exports/").status_code == 405


@pytest.mark.slow
def test_export_report_polls_until_the_export_is_ready(allow_live_server, workers, live_server):
    instance_id = services.start(
        "export_report", {"base_url": live_server.url, "report": "quarterly-sales", "seconds": 1}
    )

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed", instance.failure
    assert json.loads(instance.output) == {"report": "quarterly-sales", "status": "Ready"}
    history = services.history(instance_id)
    # The POST was answered 202, so the engine waited on a durable timer and polled with a GET.
    timers = [row for row in history if row.event_type == EventType.TIMER_CREATED]
    requests = [json.loads(row.data) for row in history if row.event_type == EventType.TASK_SCHEDULED]
    assert len(timers) >= 1
    assert [request["method"] for request in requests] == ["POST"] + ["GET"] * len(timers)
    assert requests[1]["uri"].startswith(f"{live_server.url}/samples/exports/quarterly-sales/")


@pytest.fixture
def nothing_allowed(settings, monkeypatch) -> None:
    """call_http may reach public addresses only (before the workers start, which read it)."""
    settings.PERDURA_HTTP_ALLOWED_HOSTS = []
    monkeypatch.setenv("PERDURA_HTTP_ALLOWED_HOSTS", "")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("base_url", "why"),
    [
        ("file:///proc/self/cwd/var/secret_key#", "only http and https URLs may be called"),
        ("http://127.0.0.1:{port}", "127.0.0.1 is a loopback address"),
    ],
)
def test_export_report_to_a_refused_url_fails_naming_it_and_reads_nothing(nothing_allowed, workers, base_url, why):
    """Neither a local file nor a loopback service is read: the call fails, and with it the
    instance, saying which URL was refused."""
    with socket.socket() as internal_service:
        internal_service.bind(("127.0.0.1", 0))
        internal_service.listen()
        internal_service.setblocking(False)
        base_url = base_url.format(port=internal_service.getsockname()[1])
        request = json.dumps({"base_url": base_url, "report": "sales"})

        outcome = durable("start", "export_report", "--input", request, "--wait", str(COMPLETION_TIMEOUT))

        with pytest.raises(BlockingIOError):
            internal_service.accept()  # Nobody connected.
    document = outcome.json()
    assert (outcome.exit_code, document["runtimeStatus"]) == (1, "Failed")
    assert f"{base_url.rstrip('/')}/samples/exports/" in document["output"]
    assert why in document["output"]
