"""Choreography: checkout_order and ship_order coordinate through send_event alone."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.engine.events import EventType
from orchestrations.worker.loop import drain_all
from samples.choreography import shipping_instance_id
from tests.samples import COMPLETION_TIMEOUT

ORDER = {"order_id": "1001", "address": "1 Main St"}


def start_both(order: dict) -> tuple[str, str]:
    # The shipping instance must exist before the order is paid: an event sent to an instance
    # that does not exist is dropped.
    shipping_id = services.start("ship_order", instance_id=shipping_instance_id(order["order_id"]))
    checkout_id = services.start("checkout_order", order, instance_id=f"order-{order['order_id']}")
    return checkout_id, shipping_id


@pytest.mark.django_db
def test_the_shipping_instance_waits_until_the_order_is_paid():
    shipping_id = services.start("ship_order", instance_id=shipping_instance_id("2002"))

    drain_all()

    assert services.get(shipping_id).runtime_status == "Running"
    assert EventType.TASK_SCHEDULED not in [row.event_type for row in services.history(shipping_id)]


@pytest.mark.django_db
def test_checkout_and_shipping_exchange_events_until_both_complete():
    checkout_id, shipping_id = start_both(ORDER)

    drain_all()

    checkout = services.get(checkout_id)
    assert json.loads(checkout.output) == {"order_id": "1001", "payment": "PAY-1001", "tracking_number": "TRACK-1001"}
    [sent] = [row for row in services.history(checkout_id) if row.event_type == EventType.EVENT_SENT]
    assert (sent.name, sent.details["instance_id"]) == ("OrderPaid", shipping_id)


@pytest.mark.slow
def test_checkout_order_gets_its_tracking_number_from_ship_order(workers):
    checkout_id, shipping_id = start_both(ORDER)

    checkout = services.wait_for_completion(checkout_id, timeout=COMPLETION_TIMEOUT)
    shipping = services.wait_for_completion(shipping_id, timeout=COMPLETION_TIMEOUT)

    assert checkout.runtime_status == "Completed"
    assert json.loads(checkout.output) == {"order_id": "1001", "payment": "PAY-1001", "tracking_number": "TRACK-1001"}
    assert shipping.runtime_status == "Completed"
    assert json.loads(shipping.output) == {"order_id": "1001", "address": "1 Main St", "tracking_number": "TRACK-1001"}
    raised = [row for row in services.history(shipping_id) if row.event_type == EventType.EVENT_RAISED]
    assert [(row.name, json.loads(row.data)["reply_to"]) for row in raised] == [("OrderPaid", checkout_id)]
