"""/admin/queues: put, peek, list and purge messages with API keys; every refusal answered
with its status code and nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from functions.models import QueuedMessage
from orchestrations.access import apikeys
from orchestrations.access.models import AuditLogEntry
from orchestrations.access.roles import ADMIN, OPERATOR, VIEWER

pytestmark = pytest.mark.django_db

MESSAGES = "/admin/queues/tests-queues-echo/messages"


@pytest.fixture
def key():
    def make(role: str) -> str:
        return apikeys.create(f"{role} queue key", role)[1]

    return make


def put(client: Client, key: str | None, body, *, path: str = MESSAGES, content_type: str = "application/json"):
    headers = {"x-functions-key": key} if key else {}
    data = json.dumps(body) if content_type == "application/json" and not isinstance(body, str | bytes) else body
    return client.post(path, data, content_type=content_type, headers=headers)


def test_an_operator_puts_a_json_message_and_it_is_audited(client, key):
    response = put(client, key(OPERATOR), {"message": {"order": 7}})

    assert response.status_code == 201
    message = QueuedMessage.objects.get()
    assert (message.queue, json.loads(message.body)) == ("tests-queues-echo", {"order": 7})
    assert response.json()["id"] == message.message_id
    entry = AuditLogEntry.objects.get(action="put_queue_message")
    assert (entry.target_id, entry.source, entry.details["message_id"]) == (
        "tests-queues-echo",
        "api",
        message.message_id,
    )


def test_a_raw_body_is_put_as_text_and_a_json_string_message_as_it_is(client, key):
    operator = key(OPERATOR)
    assert put(client, operator, "plain words", content_type="text/plain").status_code == 201
    assert put(client, operator, {"message": "a string"}).status_code == 201

    assert sorted(QueuedMessage.objects.values_list("body", flat=True)) == ["a string", "plain words"]


def test_peek_shows_messages_without_dequeuing_them(client, key):
    operator = key(OPERATOR)
    for number in range(3):
        put(client, operator, {"message": number})

    response = client.get(f"{MESSAGES}?peek=2", headers={"x-functions-key": key(VIEWER)})

    assert response.status_code == 200
    assert [item["body"] for item in response.json()] == ["0", "1"]
    assert set(QueuedMessage.objects.values_list("dequeue_count", flat=True)) == {0}


def test_the_list_shows_each_queue_with_its_depth_and_poison_count(client, key):
    put(client, key(OPERATOR), {"message": "x"})
    QueuedMessage.objects.create(
        queue="tests-queues-doomed-poison",
        body="bad",
        inserted_at="2026-01-01T00:00:00Z",
        expires_at="2100-01-01T00:00:00Z",
        visible_at="2026-01-01T00:00:00Z",
    )

    response = client.get("/admin/queues", headers={"x-functions-key": key(VIEWER)})

    queues = {item["name"]: item for item in response.json()}
    assert (queues["tests-queues-echo"]["depth"], queues["tests-queues-echo"]["readers"]) == (1, ["queues_echo"])
    assert queues["tests-queues-doomed"]["poisonCount"] == 1
    assert queues["tests-queues-doomed-poison"]["isPoison"] is True


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "says"),
    [
        ("/admin/queues/Not_A_Queue/messages", {"message": "x"}, "application/json", 400, "is not valid"),
        ("/admin/queues/tests-queues-nobody/messages", {"message": "x"}, "application/json", 404, "there is no queue"),
        (MESSAGES, "{not json", "application/json", 400, "Invalid JSON"),
        (MESSAGES, {"msg": "x"}, "application/json", 400, '"message"'),
        (MESSAGES, "", "text/plain", 400, "empty"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_put(client, key, path, body, content_type, status, says):
    response = put(client, key(OPERATOR), body, path=path, content_type=content_type)

    assert response.status_code == status
    assert says in response.json()["Message"]
    assert not QueuedMessage.objects.exists()
    assert not AuditLogEntry.objects.filter(action="put_queue_message").exists()


def test_a_message_over_the_payload_limit_is_413(client, key, settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    response = put(client, key(OPERATOR), {"message": "x" * 1025})

    assert response.status_code == 413
    assert "over the limit" in response.json()["Message"]
    assert not QueuedMessage.objects.exists()


def test_without_a_key_it_is_401_and_a_viewer_may_not_put(client, key):
    assert put(client, None, {"message": "x"}).status_code == 401
    assert put(client, "pdk_notakey", {"message": "x"}).status_code == 401
    response = put(client, key(VIEWER), {"message": "x"})
    assert response.status_code == 403
    assert not QueuedMessage.objects.exists()


def test_read_only_refuses_a_put_even_to_an_admin(client, key, settings):
    admin = key(ADMIN)
    settings.PERDURA_READ_ONLY = True

    assert put(client, admin, {"message": "x"}).status_code == 403
    assert not QueuedMessage.objects.exists()


def test_only_an_admin_purges(client, key):
    put(client, key(OPERATOR), {"message": "x"})

    assert client.delete(MESSAGES, headers={"x-functions-key": key(OPERATOR)}).status_code == 403
    response = client.delete(MESSAGES, headers={"x-functions-key": key(ADMIN)})

    assert (response.status_code, response.json()["deleted"]) == (200, 1)
    assert not QueuedMessage.objects.exists()
    assert AuditLogEntry.objects.filter(action="purge_queue", target_id="tests-queues-echo").exists()


def test_a_wrong_method_is_405(client, key):
    response = client.put(MESSAGES, headers={"x-functions-key": key(ADMIN)})

    assert response.status_code == 405
    assert response["Allow"] == "DELETE, GET, POST"


def test_a_bad_peek_count_is_400(client, key):
    viewer = key(VIEWER)
    assert client.get(f"{MESSAGES}?peek=many", headers={"x-functions-key": viewer}).status_code == 400
    assert client.get(f"{MESSAGES}?peek=0", headers={"x-functions-key": viewer}).status_code == 400
