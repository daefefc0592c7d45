"""order_queue: an order message fans out into one message per line, each picked on its own."""

from __future__ import annotations

import json

import pytest

from functions.models import Invocation, QueuedMessage
from functions.store.queues import put_messages
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db


def test_an_order_is_split_into_one_message_per_line_and_each_line_is_picked():
    order = {"order_id": "A-9", "lines": [{"sku": "tea", "qty": 2}, {"sku": "cups", "qty": 6}]}
    put_messages("orders", [json.dumps(order)])

    drain_all()

    split = Invocation.objects.get(function_name="split_order")
    assert (split.trigger, split.status) == ("queue", "Completed")
    assert "order A-9 split into 2 line(s)" in split.logs
    picks = Invocation.objects.filter(function_name="pick_line").order_by("input")
    assert [json.loads(pick.input) for pick in picks] == [
        {"order_id": "A-9", "sku": "cups", "qty": 6},
        {"order_id": "A-9", "sku": "tea", "qty": 2},
    ]
    assert {pick.status for pick in picks} == {"Completed"}
    assert not QueuedMessage.objects.exists()


def test_a_line_without_quantity_fails_until_it_moves_to_the_poison_queue(settings):
    put_messages("order-lines", [json.dumps({"order_id": "A-10", "sku": "tea", "qty": 0})])

    drain_all()

    failures = Invocation.objects.filter(function_name="pick_line", status="Failed")
    assert failures.count() == settings.PERDURA_QUEUE_MAX_DEQUEUE_COUNT
    assert "line 'tea' of order A-10 has no quantity" in failures.first().error_message
    poisoned = QueuedMessage.objects.get()
    assert poisoned.queue == "order-lines-poison"
    assert json.loads(poisoned.body)["order_id"] == "A-10"
