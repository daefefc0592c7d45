"""Human interaction: approve_purchase_order races the Approval event against a timeout."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.engine.events import EventType
from orchestrations.worker.loop import drain_all
from tests.samples import COMPLETION_TIMEOUT

ORDER = {"purchase_order": "PO-1001", "amount": 2500, "timeout_seconds": 3600}


def activity_names(instance_id: str) -> list[str]:
    return [row.name for row in services.history(instance_id) if row.event_type == EventType.TASK_SCHEDULED]


@pytest.mark.django_db
def test_the_order_waits_for_a_decision_after_asking_for_one():
    instance_id = services.start("approve_purchase_order", ORDER)

    drain_all()

    assert services.get(instance_id).runtime_status == "Running"
    assert activity_names(instance_id) == ["request_purchase_approval"]


@pytest.mark.django_db
def test_a_rejection_is_recorded_with_who_rejected():
    instance_id = services.start("approve_purchase_order", ORDER)
    drain_all()

    services.raise_event(instance_id, "Approval", {"approved": False, "approver": "maria"})
    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == "PO-1001 rejected by maria"


@pytest.mark.slow
def test_an_approval_before_the_timeout_is_recorded(workers):
    instance_id = services.start("approve_purchase_order", {**ORDER, "timeout_seconds": 30})
    services.raise_event(instance_id, "Approval", {"approved": True, "approver": "maria"})

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == "PO-1001 approved by maria"
    assert activity_names(instance_id) == ["request_purchase_approval", "record_purchase_decision"]
    raised = [row for row in services.history(instance_id) if row.event_type == EventType.EVENT_RAISED]
    assert [(row.name, json.loads(row.data)) for row in raised] == [
        ("Approval", {"approved": True, "approver": "maria"})
    ]


@pytest.mark.slow
def test_no_decision_before_the_timeout_escalates_the_order(workers):
    instance_id = services.start("approve_purchase_order", {**ORDER, "timeout_seconds": 1})

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == "PO-1001 escalated to the finance director: no decision in time"
    assert activity_names(instance_id) == ["request_purchase_approval", "escalate_purchase_order"]
