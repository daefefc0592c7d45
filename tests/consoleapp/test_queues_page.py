"""The Queues pages: every queue's figures, one queue's messages, and putting, requeueing and
purging, each for the roles allowed, audited, refused in read-only mode."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from functions.models import QueuedMessage
from functions.store import queues as store
from orchestrations.access.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def put(client, queue: str = "tests-queues-echo", message: str = "hello", as_json: bool = False):
    data = {"queue": queue, "message": message, **({"as_json": "on"} if as_json else {})}
    return client.post(reverse("put-queue-message"), data)


def test_the_list_shows_each_queue_with_depth_and_poison_count(viewer):
    store.put_messages("tests-queues-doomed", ["a", "b"])
    store.put_messages("tests-queues-doomed-poison", ["c"])

    page = viewer.get(reverse("queues")).content.decode()

    assert 'id="queue-tests-queues-doomed-depth">2<' in page
    assert 'href="/queues/tests-queues-doomed/#poison">1</a>' in page
    assert "Put a message" not in page  # A viewer may not.


def test_the_pages_need_a_login_and_a_role(client, nobody):
    assert client.get(reverse("queues")).status_code == 302
    assert nobody.get(reverse("queues")).status_code == 403
    assert nobody.get(reverse("queue", args=["tests-queues-echo"])).status_code == 403


def test_an_unknown_queue_is_404(viewer):
    assert viewer.get(reverse("queue", args=["tests-queues-nobody"])).status_code == 404
    assert viewer.get(reverse("queue", args=["Not_Valid"])).status_code == 404


def test_a_queue_page_shows_its_messages_and_its_poison_messages_escaped(viewer):
    store.put_messages("tests-queues-doomed", ["<script>alert(1)</script>"])
    [poisoned] = store.put_messages("tests-queues-doomed-poison", ["old"])
    QueuedMessage.objects.filter(pk=poisoned.pk).update(last_error="ValueError: <b>bad</b>")

    page = viewer.get(reverse("queue", args=["tests-queues-doomed"])).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "ValueError: &lt;b&gt;bad&lt;/b&gt;" in page


def test_an_operator_puts_a_message_and_it_is_audited(operator):
    response = put(operator, message='{"order": 5}', as_json=True)

    message = QueuedMessage.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("queue", args=["tests-queues-echo"])
    assert json.loads(message.body) == {"order": 5}
    entry = AuditLogEntry.objects.get(action="put_queue_message")
    assert (entry.actor, entry.source, entry.target_id) == ("operator", "console", "tests-queues-echo")


@pytest.mark.parametrize(
    ("queue", "message", "as_json", "says"),
    [
        ("tests-queues-echo", "{broken", True, "the message"),
        ("tests-queues-nobody", "x", False, "there is no queue"),
        ("Bad_Name", "x", False, "is not valid"),
        ("tests-queues-echo", "", False, "the message is empty"),
    ],
)
def test_bad_input_is_shown_and_nothing_put(operator, queue, message, as_json, says):
    response = put(operator, queue, message, as_json)

    assert response.status_code == 302
    page = operator.get(response.url).content.decode()
    assert says in page
    assert not QueuedMessage.objects.exists()


def test_an_oversized_message_is_refused(operator, settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    response = put(operator, message="x" * 1025)

    assert "over the limit" in operator.get(response.url).content.decode()
    assert not QueuedMessage.objects.exists()


def test_putting_is_post_only_and_for_operators(client, viewer):
    assert viewer.get(reverse("put-queue-message")).status_code == 405
    assert put(client).status_code == 302  # To the login page.
    assert put(viewer).status_code == 403
    assert not QueuedMessage.objects.exists()


def test_read_only_refuses_a_put_to_an_admin(admin, settings):
    settings.PERDURA_READ_ONLY = True

    assert put(admin).status_code == 403
    assert not QueuedMessage.objects.exists()


def test_an_operator_requeues_poison_messages_but_a_viewer_may_not(operator, viewer):
    store.put_messages("tests-queues-doomed-poison", ["c"])
    url = reverse("requeue-poison", args=["tests-queues-doomed"])

    assert viewer.post(url).status_code == 403
    assert operator.get(url).status_code == 405
    assert operator.post(url, {"reason": "fixed the bug"}).status_code == 302

    assert QueuedMessage.objects.get().queue == "tests-queues-doomed"
    entry = AuditLogEntry.objects.get(action="requeue_poison_messages")
    assert (entry.target_id, entry.reason) == ("tests-queues-doomed", "fixed the bug")


def test_only_an_admin_purges(operator, admin):
    store.put_messages("tests-queues-echo", ["a", "b"])
    url = reverse("purge-queue", args=["tests-queues-echo"])

    assert operator.post(url).status_code == 403
    assert admin.post(url).status_code == 302

    assert not QueuedMessage.objects.exists()
    assert AuditLogEntry.objects.get(action="purge_queue").details == {"messages": 2}
