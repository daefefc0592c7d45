"""External events: shopping_basket collects AddItem events until Checkout, including events
raised before it waits for them."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.engine.events import EventType
from orchestrations.store.wakeups import ORCHESTRATIONS
from orchestrations.worker.loop import drain, drain_all
from tests.samples import COMPLETION_TIMEOUT

ITEMS = [{"product": "apple", "quantity": 3}, {"product": "cheese", "quantity": 1}, {"product": "milk", "quantity": 2}]
EXPECTED = {"basket": "basket-ada", "items": ITEMS, "total_cents": 3 * 50 + 700 + 2 * 120}


def add_items_and_check_out(instance_id: str) -> None:
    for item in ITEMS:
        services.raise_event(instance_id, "AddItem", item)
    services.raise_event(instance_id, "Checkout")


@pytest.mark.django_db
def test_events_raised_while_the_basket_opens_are_buffered_and_kept_in_order():
    instance_id = services.start("shopping_basket", {"customer": "ada"})
    drain(ORCHESTRATIONS)  # The first episode: open_basket is scheduled, nothing waits for events yet.

    add_items_and_check_out(instance_id)
    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == EXPECTED
    # The events reached the instance before open_basket's result, when no wait was pending.
    kinds = [row.event_type for row in services.history(instance_id)]
    first_result = kinds.index(EventType.TASK_COMPLETED)
    assert kinds[:first_result].count(EventType.EVENT_RAISED) == len(ITEMS) + 1


@pytest.mark.django_db
def test_the_basket_stays_open_and_counts_items_until_checkout():
    instance_id = services.start("shopping_basket", {"customer": "ada"})
    drain_all()

    services.raise_event(instance_id, "AddItem", ITEMS[0])
    services.raise_event(instance_id, "additem", ITEMS[1])  # Event names are case-insensitive.
    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Running"
    assert json.loads(instance.custom_status) == {"basket": "basket-ada", "items": 2}


@pytest.mark.slow
def test_shopping_basket_prices_the_items_collected_before_checkout(workers):
    instance_id = services.start("shopping_basket", {"customer": "ada"})
    add_items_and_check_out(instance_id)

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == EXPECTED
    raised = [row.name for row in services.history(instance_id) if row.event_type == EventType.EVENT_RAISED]
    assert raised == ["AddItem", "AddItem", "AddItem", "Checkout"]
