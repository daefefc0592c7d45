"""http_approval: POST /api/shipments starts the approval orchestration and answers with the
links to follow it; GET /api/shipments/{id} reads its stage back."""

from __future__ import annotations

import pytest

from functions.services import keys
from functions.worker import recorder
from orchestrations.models import Approval
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def key() -> str:
    _, plain = keys.create("sample", "request_shipment")
    return plain


@pytest.fixture(autouse=True)
def flushed_invocations():
    yield
    recorder.flush()


def test_posting_an_order_starts_the_approval_and_answers_with_its_links(client, key):
    response = client.post(
        "/api/shipments",
        data={"order_id": "A-7", "items": 2},
        content_type="application/json",
        headers={"x-functions-key": key},
    )

    assert response.status_code == 202
    instance_id = response.json()["id"]
    assert response["Location"] == response.json()["statusQueryGetUri"]
    drain_all()
    assert Approval.objects.get(instance_id=instance_id).title == "Ship order A-7?"

    _, status_key = keys.create("status", "shipment_status")
    status = client.get(f"/api/shipments/{instance_id}", headers={"x-functions-key": status_key})
    assert status.status_code == 200
    assert status.json() == {"status": "Running", "stage": {"stage": "waiting for the warehouse"}, "outcome": None}


@pytest.mark.parametrize(
    ("body", "message"),
    [("not json", "send the order as JSON"), ('{"order_id": "A-7"}', 'an order is {"order_id": ..., "items": ...}')],
)
def test_a_bad_order_is_refused_and_starts_nothing(client, key, body, message):
    response = client.post(
        "/api/shipments", data=body, content_type="application/json", headers={"x-functions-key": key}
    )

    assert (response.status_code, response.content.decode()) == (400, message)
    assert not Approval.objects.exists()


def test_without_a_key_nothing_starts(client):
    response = client.post("/api/shipments", data={"order_id": "A-7", "items": 2}, content_type="application/json")

    assert response.status_code == 401


def test_an_unknown_shipment_is_404(client):
    _, status_key = keys.create("status", "shipment_status")

    response = client.get("/api/shipments/nope", headers={"x-functions-key": status_key})

    assert response.status_code == 404
