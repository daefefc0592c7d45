"""The approvals inbox and the decide view: everyone who reads sees the approvals, approvers
decide the approvals of their groups; the decision reaches the orchestration with who
decided, when and their comment."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Approval, Instance
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db
ORDER = {"order_id": "A-7", "items": 2, "customer": "Ada"}


@pytest.fixture
def shipment():
    """An approve_shipment instance waiting for the warehouse's decision."""
    import samples.approval  # noqa: F401  (registers approve_shipment in this process)

    services.start("approve_shipment", ORDER, instance_id="ship-A-7")
    drain_all()
    return Approval.objects.get(instance_id="ship-A-7")


@pytest.fixture
def warehouse(login):
    return login("approver", "warehouse", username="maria")


def decide_url(approval: Approval) -> str:
    return reverse("decide-approval", args=[approval.pk])


def test_the_inbox_lists_what_the_users_groups_may_decide(shipment, warehouse):
    response = warehouse.get(reverse("approvals"))

    page = response.content.decode()
    assert "Ship order A-7?" in page
    assert f'action="{decide_url(shipment)}"' in page


def test_approvers_of_other_groups_see_it_waiting_for_others_without_a_form(shipment, login):
    accounting = login("approver", "accounting")

    page = accounting.get(reverse("approvals")).content.decode()

    assert "Waiting for others" in page
    assert "Ship order A-7?" in page
    assert decide_url(shipment) not in page


def test_viewers_see_no_decide_form(shipment, login):
    viewer_in_warehouse = login("viewer", "warehouse")

    page = viewer_in_warehouse.get(reverse("approvals")).content.decode()

    assert "Ship order A-7?" in page
    assert decide_url(shipment) not in page


def test_deciding_refuses_get(shipment, warehouse):
    assert warehouse.get(decide_url(shipment)).status_code == 405


def test_deciding_sends_anonymous_users_to_log_in(shipment, client):
    response = client.post(decide_url(shipment), {"decision": "approve"})

    assert response["Location"].startswith(reverse("login"))
    assert Approval.objects.get().is_pending


def test_deciding_requires_the_approver_role(shipment, login):
    operator_in_warehouse = login("operator", "warehouse")

    response = operator_in_warehouse.post(decide_url(shipment), {"decision": "approve"})

    assert response.status_code == 403
    assert Approval.objects.get().is_pending


def test_deciding_requires_being_in_an_assigned_group(shipment, login):
    accounting = login("approver", "accounting")

    response = accounting.post(decide_url(shipment), {"decision": "approve"})

    assert response.status_code == 403
    assert Approval.objects.get().is_pending


def test_an_approval_reaches_the_orchestration_with_who_when_and_why(shipment, warehouse):
    response = warehouse.post(decide_url(shipment), {"decision": "approve", "comment": "ship it"})
    drain_all()

    assert response["Location"] == reverse("approvals")
    output = json.loads(Instance.objects.get(pk="ship-A-7").output)
    decision = output["decision"]
    assert (decision["approved"], decision["by"], decision["comment"]) == (True, "maria", "ship it")
    assert decision["decided_at"]
    assert output["outcome"] == "order A-7 dispatched, approved by maria"
    entry = AuditLogEntry.objects.get()
    assert (entry.actor, entry.action, entry.reason) == ("maria", "approve", "ship it")


def test_a_rejection_returns_the_order_to_stock(shipment, warehouse):
    warehouse.post(decide_url(shipment), {"decision": "reject", "comment": "customer cancelled"})
    drain_all()

    output = json.loads(Instance.objects.get(pk="ship-A-7").output)
    assert output["outcome"] == "order A-7 returned to stock"
    assert Approval.objects.get().status == "rejected"


def test_decided_approvals_stay_listed_with_who_and_when(shipment, warehouse):
    warehouse.post(decide_url(shipment), {"decision": "approve", "comment": "ok"})

    page = warehouse.get(reverse("approvals")).content.decode()

    decided = page[page.index('id="approvals-decided"') :]
    assert "Ship order A-7?" in decided
    assert "maria" in decided
    assert "approved" in decided


def test_deciding_twice_says_it_is_already_decided(shipment, warehouse):
    warehouse.post(decide_url(shipment), {"decision": "approve"})

    response = warehouse.post(decide_url(shipment), {"decision": "reject"}, follow=True)

    assert "is already approved" in response.content.decode()
    assert Approval.objects.get().status == "approved"


def test_a_decision_must_be_approve_or_reject(shipment, warehouse):
    response = warehouse.post(decide_url(shipment), {"decision": "maybe"})

    assert response.status_code == 400


def test_deciding_from_the_instance_page_returns_there(shipment, warehouse):
    instance_url = reverse("instance", args=["ship-A-7"])

    response = warehouse.post(decide_url(shipment), {"decision": "approve", "next": instance_url})

    assert response["Location"] == instance_url


def test_an_outside_next_address_is_not_followed(shipment, warehouse):
    response = warehouse.post(decide_url(shipment), {"decision": "approve", "next": "https://evil.example/"})

    assert response["Location"] == reverse("approvals")
