"""The durable client binding in HTTP functions: the usual HTTP starter as a user function,
its check-status links, waiting for completion, status, and entities; with workers running
the orchestrations (worker processes with PERDURA_WORKERS=celery)."""

from __future__ import annotations

import inspect

import pytest

from functions.services.durable_client import DurableClient
from functions.worker import recorder
from orchestrations.access import apikeys
from orchestrations.access.links import link_key
from orchestrations.access.models import AuditLogEntry
from orchestrations.api.openapi import PREFIX
from orchestrations.services.links import MANAGEMENT_PREFIX, instance_created_at, management_urls
from tests.conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def empty_recorder():
    yield
    recorder.flush()


def test_an_http_starter_answers_202_whose_location_reports_completed(client, workers):
    response = client.post("/api/httptest/start/httptest_orders", data={"sku": "A-7"}, content_type="application/json")

    assert response.status_code == 202
    payload = response.json()
    link = link_key(payload["id"], instance_created_at(payload["id"]))
    assert payload == management_urls("http://testserver/runtime/webhooks/durabletask", payload["id"], link)
    assert response["Location"] == payload["statusQueryGetUri"]
    assert response["Retry-After"] == "10"
    # The links work as given: they carry the key of this one instance.
    status = wait_until(
        lambda: (r := client.get(response["Location"])).status_code == 200 and r.json(),
        message="the instance to complete",
    )
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"ordered": {"sku": "A-7"}}
    audit = AuditLogEntry.objects.get(action="start", target_id=payload["id"])
    assert audit.actor == "function:http_start"


def test_links_carry_an_api_key_the_caller_put_in_its_url_in_place_of_the_link_key(client):
    _, admin_key = apikeys.create("master", "admin")

    response = client.post(
        f"/api/httptest/start/httptest_orders?code={admin_key}", data=1, content_type="application/json"
    )

    assert response["Location"].endswith(f"?code={admin_key}")


def test_waiting_for_completion_answers_with_the_output(client, workers):
    response = client.post("/api/httptest/run/httptest_orders", data=[1, 2], content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"ordered": [1, 2]}


def test_get_status_of_an_unknown_instance_is_empty(client):
    assert client.get("/api/httptest/status/no-such-instance").json() == {"exists": False}


def test_get_status_reports_a_finished_instance(client, workers):
    instance_id = client.post("/api/httptest/start/httptest_orders", data=3, content_type="application/json").json()[
        "id"
    ]

    status = wait_until(
        lambda: (
            (body := client.get(f"/api/httptest/status/{instance_id}").json())["runtimeStatus"] == "Completed" and body
        ),
        message="the instance to complete",
    )
    assert status == {"exists": True, "runtimeStatus": "Completed", "output": {"ordered": 3}}


def test_signal_entity_and_read_entity_state(client, workers):
    assert client.get("/api/httptest/entity/k1").json() == {"exists": False, "state": None}

    client.post("/api/httptest/entity/k1", data=5, content_type="application/json")
    client.post("/api/httptest/entity/k1", data=2, content_type="application/json")

    wait_until(
        lambda: client.get("/api/httptest/entity/k1").json()["state"] == 7, timeout=90, message="the entity's state"
    )
    assert client.get("/api/httptest/entity/k1").json() == {"exists": True, "state": 7}


def test_the_client_has_the_azure_sdks_method_names():
    azure = pytest.importorskip("azure.durable_functions")
    sdk = azure.DurableOrchestrationClient
    names = [
        "start_new",
        "get_status",
        "raise_event",
        "terminate",
        "signal_entity",
        "read_entity_state",
        "wait_for_completion_or_create_check_status_response",
        "create_check_status_response",
        "create_http_management_payload",
        "suspend",
        "resume",
        "rewind",
        "purge_instance_history",
    ]
    for name in names:
        ours, theirs = getattr(DurableClient, name), getattr(sdk, name)
        assert inspect.iscoroutinefunction(ours) == inspect.iscoroutinefunction(theirs), name
        their_parameters = list(inspect.signature(theirs).parameters)
        our_parameters = list(inspect.signature(ours).parameters)
        required = [p for p in their_parameters if inspect.signature(theirs).parameters[p].default is inspect._empty]
        assert our_parameters[: len(required)] == required, name


def test_the_links_use_the_prefix_the_api_serves():
    assert PREFIX == MANAGEMENT_PREFIX
