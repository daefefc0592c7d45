"""GET/POST/DELETE entities/{name}/{key} and GET entities[/{name}]."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from entities import services as entities
from entities.models import Entity
from orchestrations.access.models import AuditLogEntry
from orchestrations.engine import EntityId
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.live import PREFIX, LiveApi
from tests.orchestrations.api.test_start import PAYLOADS

#: A key that needs URL-encoding, a slash included.
AWKWARD_KEY = "team/ü 100%+?"


def signal(name: str, key: str, operation: str, value=None) -> None:
    entities.signal(EntityId(name, key), operation, value)
    settle()


def test_signal_then_read_an_entity(api):
    reply = api.post(api.entity_path("counter", "home"), query={"op": "add"}, json_body=5)
    settle()

    assert reply.status == 202
    assert reply.json["Message"]
    state = api.get(api.entity_path("counter", "home"))
    assert (state.status, state.json) == (200, 5)
    assert AuditLogEntry.objects.get(action="signal_entity").details == {"operation": "add"}


def test_signal_passes_json_of_every_type(api):
    for payload in PAYLOADS:
        api.post(api.entity_path("journal", "typed"), query={"op": "append"}, json_body=payload)
    settle()

    assert api.get(api.entity_path("journal", "typed")).json == PAYLOADS


def test_signal_with_text_content_passes_the_text(api):
    api.post(
        api.entity_path("journal", "texts"),
        query={"op": "append"},
        body=b'{"not": "parsed"}',
        headers={"Content-Type": "text/plain"},
    )
    api.post(api.entity_path("journal", "texts"), query={"op": "append"})
    settle()

    assert api.get(api.entity_path("journal", "texts")).json == ['{"not": "parsed"}', None]


def test_entity_names_and_keys_that_need_url_encoding(api):
    api.post(api.entity_path("Journal", AWKWARD_KEY), query={"op": "append"}, json_body="x")
    settle()

    assert entities.get(EntityId("journal", AWKWARD_KEY)).state == ["x"]
    assert api.get(api.entity_path("JOURNAL", AWKWARD_KEY)).json == ["x"]


def test_read_of_an_entity_that_does_not_exist_is_404(api):
    reply = api.get(api.entity_path("counter", "never"))

    assert reply.status == 404
    assert "does not exist" in reply.json["Message"]


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [("counter", {}, "an operation name must be a non-empty string"), ("a@b", {"op": "add"}, "without '@'")],
)
def test_signal_with_a_bad_operation_or_name_is_400(api, name, query, message):
    reply = api.post(api.entity_path(name, "k"), query=query, json_body=1)

    assert reply.status == 400
    assert message in reply.json["Message"]


def test_signal_with_a_body_that_is_not_json_is_400(api):
    reply = api.post(
        api.entity_path("counter", "k"), query={"op": "add"}, body=b"{", headers={"Content-Type": "application/json"}
    )

    assert reply.status == 400
    assert reply.json["Message"].startswith("Invalid JSON content")


def test_delete_removes_the_entity(api):
    signal("counter", "gone", "add", 1)

    reply = api.delete(api.entity_path("counter", "gone"))

    assert reply.status == 202
    assert not Entity.objects.filter(pk="@counter@gone").exists()
    assert api.get(api.entity_path("counter", "gone")).status == 404
    assert AuditLogEntry.objects.get(action="delete_entity").target_id == "@counter@gone"


def test_delete_of_an_entity_that_does_not_exist_is_404(api):
    assert api.delete(api.entity_path("counter", "never")).status == 404


def test_delete_needs_the_admin_role(live_server, operator_key):
    signal("counter", "kept", "add", 1)

    reply = LiveApi(live_server.url, operator_key).delete(f"{PREFIX}/entities/counter/kept")

    assert reply.status == 403
    assert Entity.objects.filter(pk="@counter@kept").exists()


def test_signal_needs_the_signal_permission(live_server, viewer_key):
    reply = LiveApi(live_server.url, viewer_key).post(f"{PREFIX}/entities/counter/k", query={"op": "add"})

    assert reply.status == 403


def test_list_entities_of_a_name(api):
    signal("counter", "b", "add", 2)
    signal("counter", "a", "add", 1)
    signal("journal", "c", "append", 3)

    reply = api.get(api.entity_path("counter"))

    assert reply.status == 200
    assert [status["entityId"] for status in reply.json] == [
        {"name": "counter", "key": "a"},
        {"name": "counter", "key": "b"},
    ]
    assert all(status["lastOperationTime"].endswith("Z") for status in reply.json)
    assert all("state" not in status for status in reply.json)


def test_list_entities_with_their_state(api):
    signal("counter", "a", "add", 7)

    reply = api.get(api.entity_path("counter"), query={"fetchState": "true"})

    assert reply.json[0]["state"] == 7


def test_list_all_entities(api):
    signal("counter", "a", "add", 1)
    signal("journal", "b", "append", 1)

    reply = api.get(f"{PREFIX}/entities")

    assert [status["entityId"]["name"] for status in reply.json] == ["counter", "journal"]


def test_list_entities_pages_with_the_continuation_token(api):
    for key in "abc":
        signal("counter", key, "add", 1)

    first = api.get(api.entity_path("counter"), query={"top": 2})
    second = api.get(
        api.entity_path("counter"),
        query={"top": 2},
        headers={"x-ms-continuation-token": first.header("x-ms-continuation-token")},
    )

    assert [status["entityId"]["key"] for status in first.json] == ["a", "b"]
    assert [status["entityId"]["key"] for status in second.json] == ["c"]
    assert second.header("x-ms-continuation-token") is None


def test_list_entities_by_last_operation_time(api):
    signal("counter", "old", "add", 1)
    signal("counter", "new", "add", 1)
    Entity.objects.filter(pk="@counter@old").update(last_operation_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat()

    reply = api.get(api.entity_path("counter"), query={"lastOperationTimeFrom": since})

    assert [status["entityId"]["key"] for status in reply.json] == ["new"]
