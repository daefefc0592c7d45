"""The queue consumer, run in this process (``drain_all``): delivery, retries with a growing
dequeue count, the poison queue, output bindings only on success, expiry, and the pop
receipt that keeps a worker whose claim ran out from settling someone else's message."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from functions.models import Invocation, QueuedMessage
from functions.registry import FunctionKind, registry
from functions.store import queues as store
from functions.worker import queues as consumer
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db


def invocations(function_name: str) -> list[Invocation]:
    return list(Invocation.objects.filter(function_name=function_name).order_by("started_at", "pk"))


def test_a_message_is_delivered_once_and_its_invocation_recorded():
    [message] = store.put_messages("tests-queues-echo", ["hello"])

    drain_all()

    [run] = invocations("queues_echo")
    assert (run.trigger, run.status, run.input) == ("queue", "Completed", "hello")
    assert json.loads(run.output) == "hello"
    assert "got hello on delivery 1" in run.logs
    assert not QueuedMessage.objects.filter(pk=message.pk).exists()


def test_a_function_failing_three_times_then_succeeding_sees_dequeue_counts_one_to_four():
    store.put_messages("tests-queues-flaky", ["retry me"])

    drain_all()

    runs = invocations("queues_flaky")
    assert [run.status for run in runs] == ["Failed", "Failed", "Failed", "Completed"]
    assert [run.error_message for run in runs[:3]] == [f"failing delivery {count}" for count in (1, 2, 3)]
    assert json.loads(runs[3].output) == 4
    assert not QueuedMessage.objects.exists()


def test_a_message_failing_five_times_moves_to_the_poison_queue_with_its_error(settings):
    [message] = store.put_messages("tests-queues-doomed", ["bad order"])

    drain_all()

    assert len(invocations("queues_doomed")) == settings.PERDURA_QUEUE_MAX_DEQUEUE_COUNT == 5
    poisoned = QueuedMessage.objects.get()
    assert (poisoned.queue, poisoned.message_id, poisoned.body) == (
        "tests-queues-doomed-poison",
        message.message_id,
        "bad order",
    )
    assert poisoned.dequeue_count == 0
    assert poisoned.last_error == "ValueError: cannot handle 'bad order'"


def test_the_output_binding_puts_its_messages_only_when_the_function_succeeds():
    store.put_messages("tests-queues-fan", [json.dumps({"order": "ok"}), json.dumps({"order": "no", "fail": True})])

    drain_all()

    fanned = QueuedMessage.objects.filter(queue="tests-queues-fanned")
    assert sorted(json.loads(row.body)["part"] for row in fanned) == [1, 2]
    assert {json.loads(row.body)["order"] for row in fanned} == {"ok"}
    assert QueuedMessage.objects.get(queue="tests-queues-fan-poison").body == json.dumps({"order": "no", "fail": True})


def test_an_expired_message_is_deleted_not_delivered(settings):
    long_ago = timezone.now() - timedelta(seconds=settings.PERDURA_QUEUE_MESSAGE_TTL_SECONDS + 1)
    store.put_messages("tests-queues-echo", ["stale"], now=long_ago)
    store.put_messages("tests-queues-echo", ["fresh"])

    assert consumer.messages_ready(timezone.now())
    drain_all()

    assert [run.input for run in invocations("queues_echo")] == ["fresh"]
    assert not QueuedMessage.objects.exists()
    assert not consumer.messages_ready(timezone.now())


def test_messages_a_dead_worker_held_come_back_after_the_visibility_timeout(settings):
    visibility = timedelta(seconds=settings.PERDURA_QUEUE_VISIBILITY_SECONDS)
    then = timezone.now() - visibility - timedelta(seconds=1)
    store.put_messages("tests-queues-echo", ["a", "b"], now=then)
    claim = store.claim_messages(["tests-queues-echo"], 10, "dead-worker", now=then)
    assert len(claim.messages) == 2  # Claimed, then its worker died: never settled.

    drain_all()

    runs = invocations("queues_echo")
    assert sorted(run.input for run in runs) == ["a", "b"]
    assert all("on delivery 2" in run.logs for run in runs)
    assert not QueuedMessage.objects.exists()


def test_a_message_claimed_now_is_not_delivered_again_before_its_timeout():
    store.put_messages("tests-queues-echo", ["held"])
    claim = store.claim_messages(["tests-queues-echo"], 10, "other-worker")

    assert drain_all() == 0
    assert not consumer.messages_ready(timezone.now())
    assert QueuedMessage.objects.get().pop_receipt == claim.pop_receipt


def test_a_worker_whose_claim_ran_out_cannot_delete_or_poison_the_message_another_worker_holds():
    [message] = store.put_messages("tests-queues-echo", ["contested"])
    late = store.claim_messages(["tests-queues-echo"], 1, "late-worker")
    QueuedMessage.objects.filter(pk=message.pk).update(visible_at=timezone.now())  # Its timeout passed.
    current = store.claim_messages(["tests-queues-echo"], 1, "current-worker")
    assert current.pop_receipt != late.pop_receipt

    assert store.delete_claimed(late.pop_receipt, [message.pk]) == set()
    stale = late.messages[0]
    stale.last_error = "late failure"
    assert store.move_to_poison(late.pop_receipt, [stale], now=timezone.now()) == []
    store.give_back(late.pop_receipt, [stale], now=timezone.now())

    row = QueuedMessage.objects.get()
    assert (row.queue, row.pop_receipt, row.dequeue_count, row.last_error) == (
        "tests-queues-echo",
        current.pop_receipt,
        2,
        "",
    )
    assert store.delete_claimed(current.pop_receipt, [message.pk]) == {message.pk}


def test_a_queue_no_function_reads_is_left_alone():
    store.put_messages("tests-queues-fanned", ["nobody reads this"])

    assert drain_all() == 0
    assert QueuedMessage.objects.get().dequeue_count == 0


def test_a_function_with_max_concurrency_gets_at_most_that_many_messages_per_claim(monkeypatch):
    limited = dataclasses.replace(registry.get(FunctionKind.QUEUE, "queues_echo"), max_concurrency=2)
    monkeypatch.setattr(consumer, "consumers", lambda: {"tests-queues-echo": [limited]})
    store.put_messages("tests-queues-echo", [str(number) for number in range(5)])

    assert consumer.claim_limits({"tests-queues-echo": [limited]}, 50) == [(["tests-queues-echo"], 2)]
    assert consumer.process_messages("test-worker", 50) == 2
    assert QueuedMessage.objects.count() == 3


def test_a_limited_function_whose_slots_other_workers_hold_leaves_its_messages_uncounted(monkeypatch):
    from functions.store.concurrency import acquire_slots, release_slots

    limited = dataclasses.replace(registry.get(FunctionKind.QUEUE, "queues_echo"), max_concurrency=1)
    monkeypatch.setattr(consumer, "consumers", lambda: {"tests-queues-echo": [limited]})
    store.put_messages("tests-queues-echo", ["a", "b"])
    [number] = acquire_slots("queues_echo", 1, 1, "another-worker").numbers

    assert consumer.process_messages("test-worker", 50) == 0
    assert list(QueuedMessage.objects.values_list("dequeue_count", flat=True)) == [0, 0]

    release_slots("queues_echo", [number], "another-worker")
    assert consumer.process_messages("test-worker", 50) == 1
    assert QueuedMessage.objects.count() == 1
