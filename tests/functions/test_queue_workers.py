"""Queue triggers under running workers: in-process threads on SQLite, and real ``manage.py
worker`` processes on PostgreSQL + Redis (CI's services run), where one is SIGKILLed while it
holds messages and none is lost."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from functions.models import Invocation, QueuedMessage
from functions.store import queues as store
from tests.conftest import WorkerProcess, is_celery_mode, wait_until

pytestmark = pytest.mark.slow

#: A worker process takes a while to start on a busy machine: a limit, not an expectation.
LIMIT = 120


def settled(function_name: str, count: int, status: str = "Completed"):
    return lambda: Invocation.objects.filter(function_name=function_name, status=status).count() >= count


def test_messages_are_delivered_retried_poisoned_and_fanned_out_by_running_workers(workers, settings):
    store.put_messages("tests-queues-echo", ["one", "two"])
    store.put_messages("tests-queues-flaky", ["retry me"])
    store.put_messages("tests-queues-doomed", ["hopeless"])
    store.put_messages("tests-queues-fan", [json.dumps({"order": "ok"}), json.dumps({"order": "no", "fail": True})])

    wait_until(settled("queues_echo", 2), timeout=LIMIT, message="both echo messages")
    wait_until(settled("queues_flaky", 1), timeout=LIMIT, message="the flaky message to succeed")
    wait_until(
        lambda: QueuedMessage.objects.filter(queue="tests-queues-doomed-poison").exists(),
        timeout=LIMIT,
        message="poison",
    )
    wait_until(
        lambda: QueuedMessage.objects.filter(queue="tests-queues-fan-poison").exists(),
        timeout=LIMIT,
        message="fan poison",
    )

    assert sorted(Invocation.objects.filter(function_name="queues_echo").values_list("input", flat=True)) == [
        "one",
        "two",
    ]
    flaky = Invocation.objects.filter(function_name="queues_flaky").order_by("started_at")
    assert [run.status for run in flaky] == ["Failed", "Failed", "Failed", "Completed"]
    assert json.loads(flaky.last().output) == 4
    doomed = Invocation.objects.filter(function_name="queues_doomed")
    assert doomed.count() == settings.PERDURA_QUEUE_MAX_DEQUEUE_COUNT
    fanned = [
        json.loads(body)
        for body in QueuedMessage.objects.filter(queue="tests-queues-fanned").values_list("body", flat=True)
    ]
    assert sorted((item["order"], item["part"]) for item in fanned) == [("ok", 1), ("ok", 2)]


@pytest.mark.services
def test_a_worker_killed_holding_messages_loses_none(transactional_db):
    if not is_celery_mode() or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL, Redis and Celery worker processes (CI's services run)")
    env = {"PERDURA_QUEUE_VISIBILITY_SECONDS": "5"}
    bodies = ["a", "b", "c"]
    store.put_messages("tests-queues-held", bodies)
    first = WorkerProcess(env).start()
    try:
        # The first delivery of each message blocks its function: the worker holds them all.
        wait_until(
            lambda: set(QueuedMessage.objects.values_list("dequeue_count", flat=True)) == {1},
            timeout=LIMIT,
            message="the first worker to claim every message",
        )
        first.kill()
        assert not Invocation.objects.filter(function_name="queues_hold_first").exists()
        second = WorkerProcess(env).start()
        try:
            wait_until(
                lambda: not QueuedMessage.objects.exists() and settled("queues_hold_first", 3)(),
                timeout=LIMIT,
                message="another worker to run every message after the visibility timeout",
            )
        finally:
            second.stop()
    finally:
        first.stop()
    runs = Invocation.objects.filter(function_name="queues_hold_first", status="Completed")
    assert sorted(runs.values_list("input", flat=True)) == bodies
    assert {json.loads(run.output) for run in runs} == {2}
