"""Approval: approve_shipment asks the warehouse, then dispatches or returns the order."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

import samples.approval  # noqa: F401  (registers the sample until samples/__init__ imports it)
from orchestrations import services
from orchestrations.access.audit import Actor
from orchestrations.models import Approval
from orchestrations.services import approvals
from orchestrations.worker.loop import drain_all
from orchestrations.worker.sweeper import expire_due_approvals

pytestmark = pytest.mark.django_db
ORDER = {"order_id": "A-1001", "items": 3, "customer": "Ada"}


@pytest.fixture
def maria() -> User:
    user = User.objects.create_user("maria")
    user.groups.add(Group.objects.get(name="approver"), Group.objects.create(name="warehouse"))
    return user


def test_the_warehouse_is_asked_with_the_order_as_details():
    services.start("approve_shipment", ORDER, instance_id="ship")
    drain_all()

    approval = Approval.objects.get(instance_id="ship")
    assert (approval.title, approval.assignees, approval.status) == ("Ship order A-1001?", ["warehouse"], "pending")
    assert json.loads(approval.details) == {"order_id": "A-1001", "customer": "Ada", "items": 3}
    assert json.loads(services.get("ship").custom_status) == {"stage": "waiting for the warehouse"}


def test_an_approved_order_is_dispatched_with_who_approved_it(maria):
    services.start("approve_shipment", ORDER, instance_id="ship")
    drain_all()

    approval = Approval.objects.get(instance_id="ship")
    approvals.decide(approval.pk, approved=True, comment="go", user=maria, actor=Actor.for_user(maria))
    drain_all()

    output = json.loads(services.get("ship").output)
    assert output["outcome"] == "order A-1001 dispatched, approved by maria"
    assert (output["decision"]["by"], output["decision"]["comment"]) == ("maria", "go")


def test_an_order_nobody_decides_in_time_goes_back_to_stock():
    services.start("approve_shipment", {**ORDER, "timeout_hours": 1}, instance_id="ship")
    drain_all()

    Approval.objects.update(deadline=timezone.now() - timedelta(seconds=1))  # The hour has passed.
    expire_due_approvals()
    drain_all()

    output = json.loads(services.get("ship").output)
    assert output["outcome"] == "order A-1001 returned to stock"
    assert output["decision"]["timed_out"] is True
