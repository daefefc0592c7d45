"""``durable queue put|peek|list|requeue|purge``: exit status 2 and nothing written for bad input."""

from __future__ import annotations

import json

import pytest

from functions.models import QueuedMessage
from functions.store import queues as store
from orchestrations.access.models import AuditLogEntry
from tests.orchestrations.management.runner import durable

pytestmark = pytest.mark.django_db


def test_put_prints_the_message_id_and_peek_shows_the_message():
    put = durable("queue", "put", "tests-queues-echo", "--json", '{"order": 1}')

    assert put.exit_code == 0
    message = QueuedMessage.objects.get()
    assert put.stdout.strip() == message.message_id
    assert AuditLogEntry.objects.get(action="put_queue_message").actor.startswith("cli:")
    peeked = durable("queue", "peek", "tests-queues-echo", "-n", "5").json()
    assert [(item["id"], json.loads(item["body"])) for item in peeked] == [(message.message_id, {"order": 1})]


def test_list_shows_depth_and_poison_count():
    store.put_messages("tests-queues-doomed", ["a", "b"])
    store.put_messages("tests-queues-doomed-poison", ["c"])

    rows = {row["name"]: row for row in durable("queue", "list", "--json").json()}

    assert (rows["tests-queues-doomed"]["depth"], rows["tests-queues-doomed"]["poisonCount"]) == (2, 1)
    table = durable("queue", "list").stdout
    assert "tests-queues-doomed " in table and "queues_doomed" in table


def test_requeue_moves_poison_messages_back_and_purge_empties_a_queue():
    store.put_messages("tests-queues-doomed-poison", ["c"])

    assert (
        durable("queue", "requeue", "tests-queues-doomed").stdout.strip()
        == "Moved 1 message back to 'tests-queues-doomed'."
    )
    assert QueuedMessage.objects.get().queue == "tests-queues-doomed"
    assert durable("queue", "purge", "tests-queues-doomed").exit_code == 0
    assert not QueuedMessage.objects.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("put", "Bad_Name", "--message", "x"), "is not valid"),
        (("put", "tests-queues-nobody", "--message", "x"), "there is no queue"),
        (("put", "tests-queues-echo", "--json", "{oops"), "--json"),
        (("put", "tests-queues-echo"), "one of the arguments --message --json is required"),
        (("peek", "tests-queues-nobody"), "there is no queue"),
        (("peek", "tests-queues-echo", "-n", "0"), "peek 1 to"),
        (("purge", "tests-queues-nobody"), "there is no queue"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(args, says):
    outcome = durable("queue", *args)

    assert outcome.exit_code == 2
    assert says in outcome.stderr
    assert not QueuedMessage.objects.exists()


def test_an_oversized_message_exits_2(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    outcome = durable("queue", "put", "tests-queues-echo", "--message", "x" * 1025)

    assert outcome.exit_code == 2
    assert "over the limit" in outcome.stderr
    assert not QueuedMessage.objects.exists()


def test_read_only_refuses_put_requeue_and_purge_but_not_the_readings(settings):
    store.put_messages("tests-queues-echo", ["kept"])
    settings.PERDURA_READ_ONLY = True

    for args in (
        ("put", "tests-queues-echo", "--message", "x"),
        ("purge", "tests-queues-echo"),
        ("requeue", "tests-queues-echo"),
    ):
        outcome = durable("queue", *args)
        assert outcome.exit_code == 2
        assert "PERDURA_READ_ONLY" in outcome.stderr
    assert durable("queue", "peek", "tests-queues-echo").exit_code == 0
    assert list(QueuedMessage.objects.values_list("body", flat=True)) == ["kept"]
