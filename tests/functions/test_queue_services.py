"""The queue services' own rules: which queues exist, what a message may be, who may purge."""

from __future__ import annotations

import pytest

from functions.models import QueuedMessage
from functions.services import queues
from functions.store import queues as store
from orchestrations.access.audit import Actor
from orchestrations.access.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db

OPERATOR = Actor("operator-user", "console", permissions=ROLE_PERMISSIONS["operator"])


def test_queues_named_by_triggers_outputs_and_poison_queues_exist_others_only_while_they_hold_messages():
    names = {summary.name for summary in queues.list_queues()}
    assert {"tests-queues-echo", "tests-queues-echo-poison", "tests-queues-fanned"} <= names
    with pytest.raises(queues.UnknownQueueError):
        queues.peek("tests-queues-elsewhere")

    store.put_messages("tests-queues-elsewhere", ["left by an older deployment"])

    assert [message.body for message in queues.peek("tests-queues-elsewhere")] == ["left by an older deployment"]


def test_a_json_value_is_stored_as_json_and_bytes_must_be_text():
    assert queues.put("tests-queues-echo", {"a": [1, 2]}, actor=None).body == '{"a": [1, 2]}'
    with pytest.raises(queues.InvalidQueueInputError, match="not UTF-8"):
        queues.put("tests-queues-echo", b"\xff\xfe", actor=None)
    with pytest.raises(queues.InvalidQueueInputError, match="cannot be serialised"):
        queues.put("tests-queues-echo", {1, 2}, actor=None)


def test_an_operator_may_requeue_but_not_purge():
    store.put_messages("tests-queues-doomed-poison", ["c"])

    assert queues.requeue_poison("tests-queues-doomed", actor=OPERATOR) == 1
    with pytest.raises(queues.QueueNotAllowedError):
        queues.purge("tests-queues-doomed", actor=OPERATOR)
    assert QueuedMessage.objects.get().queue == "tests-queues-doomed"


def test_requeueing_is_from_a_queue_to_its_poison_queue_not_from_a_poison_queue():
    with pytest.raises(queues.InvalidQueueInputError, match="is a poison queue"):
        queues.requeue_poison("tests-queues-echo-poison", actor=None)


def test_a_long_queue_name_keeps_its_poison_queue_within_the_name_limit():
    name = "q" * 63

    assert store.poison_queue_name(name) == "q" * 56 + "-poison"
    assert len(store.poison_queue_name(name)) == 63
