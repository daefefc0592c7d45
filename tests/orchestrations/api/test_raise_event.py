"""POST instances/{instanceId}/raiseEvent/{eventName}."""

from __future__ import annotations

import pytest

from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Message
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.test_start import AWKWARD_ID, PAYLOADS


@pytest.fixture
def waiting(transactional_db):
    """An instance waiting for the "approval" event, which it returns."""
    services.start("wait_for_approval", instance_id="waiting")
    settle()
    return "waiting"


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda payload: type(payload).__name__)
def test_raise_event_delivers_json_of_every_type(api, waiting, payload):
    reply = api.raise_event(waiting, "approval", payload)
    settle()

    assert reply.status == 202
    assert reply.json["Message"]
    document = api.status(waiting).json
    assert (document["runtimeStatus"], document["output"]) == ("Completed", payload)


def test_raise_event_with_an_empty_body_sends_null(api, waiting):
    reply = api.post(api.instance_path(waiting, "raiseEvent/approval"), headers={"Content-Type": "application/json"})
    settle()

    assert reply.status == 202
    assert api.status(waiting).json["output"] is None


def test_raise_event_names_and_ids_that_need_url_encoding(api):
    services.start("wait_for_approval", instance_id=AWKWARD_ID)
    event_name = "approve/reject? #1 ä"

    reply = api.raise_event(AWKWARD_ID, event_name, {"ok": True})
    settle()

    assert reply.status == 202
    events = api.status(AWKWARD_ID, showHistory="true").json["historyEvents"]
    [raised] = [event for event in events if event["EventType"] == "EventRaised"]
    assert (raised["Name"], raised["Input"]) == (event_name, {"ok": True})
    assert AuditLogEntry.objects.get(action="raise_event").details == {"event_name": event_name}


def test_raise_event_on_an_unknown_instance_is_404(api):
    reply = api.raise_event("nobody", "approval", 1)

    assert reply.status == 404
    assert "nobody" in reply.json["Message"]


def test_raise_event_on_a_finished_instance_is_410(api):
    services.start("echo_orchestrator", 1, instance_id="done")
    settle()

    reply = api.raise_event("done", "approval", 1)

    assert reply.status == 410
    assert "already finished" in reply.json["Message"]


def test_raise_event_without_json_content_is_400(api, waiting):
    reply = api.post(
        api.instance_path(waiting, "raiseEvent/approval"), body=b"yes", headers={"Content-Type": "text/plain"}
    )
    settle()

    assert reply.status == 400
    assert reply.json["Message"] == "Only application/json request content is supported"
    assert api.status(waiting).json["runtimeStatus"] == "Running"


def test_raise_event_with_a_body_that_is_not_json_is_400(api, waiting):
    reply = api.post(
        api.instance_path(waiting, "raiseEvent/approval"),
        body=b"[1, 2",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert reply.status == 400
    assert reply.json["Message"].startswith("Invalid JSON content")


def test_raise_event_needs_the_raise_event_permission(live_server, viewer_key, waiting):
    from tests.orchestrations.api.live import LiveApi

    reply = LiveApi(live_server.url, viewer_key).raise_event(waiting, "approval", 1)

    assert reply.status == 403


def test_raise_event_with_a_name_of_10000_characters_is_400_and_sends_nothing(api, waiting):
    reply = api.raise_event(waiting, "e" * 10_000, True)

    assert reply.status == 400
    assert "an event name may have at most 300 characters; this one has 10,000" in reply.json["Message"]
    assert not Message.objects.filter(instance_id=waiting).exists()
    assert not AuditLogEntry.objects.filter(action="raise_event").exists()


@pytest.mark.parametrize(
    "path", ["instances/wait%00ing/raiseEvent/approval", "instances/waiting/raiseEvent/appr%00oval"]
)
def test_a_nul_character_anywhere_in_the_path_is_400(api, waiting, path):
    reply = api.post(f"/runtime/webhooks/durabletask/{path}", json_body=True)

    assert reply.status == 400
    assert "NUL" in reply.json["Message"]
    assert not Message.objects.filter(instance_id=waiting).exists()
