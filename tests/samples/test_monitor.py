"""Monitor: track_shipment polls on a durable timer until delivery or expiry."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from orchestrations import services
from orchestrations.engine.events import EventType
from orchestrations.worker.loop import drain_all
from tests.samples import COMPLETION_TIMEOUT


@pytest.mark.django_db
def test_a_shipment_delivered_on_the_first_check_needs_no_timer():
    instance_id = services.start(
        "track_shipment",
        {"shipment": "PKG-7", "interval_seconds": 60, "expiry_seconds": 3600, "delivered_on_check": 1},
    )

    drain_all()

    instance = services.get(instance_id)
    assert json.loads(instance.output) == {
        "shipment": "PKG-7",
        "delivered": True,
        "checks": 1,
        "notification": "Told the customer that shipment PKG-7 was delivered",
    }
    assert EventType.TIMER_CREATED not in [row.event_type for row in services.history(instance_id)]


@pytest.mark.django_db
def test_the_monitor_publishes_each_check_as_custom_status_and_sleeps_on_a_timer():
    instance_id = services.start(
        "track_shipment",
        {"shipment": "PKG-8", "interval_seconds": 60, "expiry_seconds": 3600, "delivered_on_check": 5},
    )

    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Running"
    assert json.loads(instance.custom_status) == {"shipment": "PKG-8", "checks": 1, "status": "InTransit"}
    [timer] = [row for row in services.history(instance_id) if row.event_type == EventType.TIMER_CREATED]
    assert datetime.fromisoformat(timer.details["fire_at"]) - timer.timestamp == timedelta(seconds=60)


@pytest.mark.slow
def test_track_shipment_checks_until_delivered(workers):
    instance_id = services.start(
        "track_shipment",
        {"shipment": "PKG-1", "interval_seconds": 1, "expiry_seconds": 30, "delivered_on_check": 3},
    )

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {
        "shipment": "PKG-1",
        "delivered": True,
        "checks": 3,
        "notification": "Told the customer that shipment PKG-1 was delivered",
    }
    assert json.loads(instance.custom_status) == {"shipment": "PKG-1", "checks": 3, "status": "Delivered"}
    history = services.history(instance_id)
    assert [row.event_type for row in history].count(EventType.TIMER_FIRED) == 2


@pytest.mark.slow
def test_track_shipment_gives_up_when_the_next_check_would_be_past_the_expiry(workers):
    # Checks at about 0 s and 2 s; the third would be at about 4 s, after the 3.9 s expiry. (The
    # second check may come up to 1.9 s late, as a timer can on a loaded machine, and still count.)
    instance_id = services.start(
        "track_shipment",
        {"shipment": "PKG-2", "interval_seconds": 2, "expiry_seconds": 3.9, "delivered_on_check": 100},
    )

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"shipment": "PKG-2", "delivered": False, "checks": 2, "notification": None}
    assert json.loads(instance.custom_status) == {"shipment": "PKG-2", "checks": 2, "status": "InTransit"}
