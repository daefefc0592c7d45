"""API keys on the live server: the ways a key is accepted, 401 and 403, and keys kept out of
the logs."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from orchestrations import services
from orchestrations.access import apikeys
from orchestrations.access.models import ApiKey, AuditLogEntry
from tests.orchestrations.api.live import PREFIX, LiveApi

#: One request per route: (method, path, the permission it needs).
ROUTES = [
    ("POST", f"{PREFIX}/orchestrators/echo_orchestrator", "start_instance"),
    ("POST", f"{PREFIX}/orchestrators/echo_orchestrator/new-id", "start_instance"),
    ("POST", "/api/orchestrators/echo_orchestrator", "start_instance"),
    ("GET", f"{PREFIX}/instances/target", "view_console"),
    ("GET", f"{PREFIX}/instances", "view_console"),
    ("DELETE", f"{PREFIX}/instances/target", "purge_instance"),
    ("DELETE", f"{PREFIX}/instances?createdTimeFrom=2020-01-01", "purge_instance"),
    ("POST", f"{PREFIX}/instances/target/raiseEvent/approval", "raise_event"),
    ("POST", f"{PREFIX}/instances/target/terminate", "terminate_instance"),
    ("POST", f"{PREFIX}/instances/target/suspend", "suspend_instance"),
    ("POST", f"{PREFIX}/instances/target/resume", "resume_instance"),
    ("POST", f"{PREFIX}/instances/target/rewind", "rewind_instance"),
    ("POST", f"{PREFIX}/instances/target/restart", "restart_instance"),
    ("GET", f"{PREFIX}/entities/counter/k", "view_console"),
    ("POST", f"{PREFIX}/entities/counter/k?op=add", "signal_entity"),
    ("DELETE", f"{PREFIX}/entities/counter/k", "delete_entity"),
    ("GET", f"{PREFIX}/entities/counter", "view_console"),
    ("GET", f"{PREFIX}/entities", "view_console"),
]


#: The target's status when nothing was done to it (a background worker may have started it).
UNTOUCHED = ("Pending", "Running")


@pytest.fixture
def target(transactional_db):
    services.start("wait_for_approval", instance_id="target")
    return "target"


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES)
def test_every_route_without_a_key_is_401(anonymous, target, method, path, permission):
    reply = anonymous.call(method, path, headers={"Content-Type": "application/json"})

    assert reply.status == 401
    assert "x-functions-key" in reply.json["Message"]
    assert services.get(target).runtime_status in UNTOUCHED


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES)
def test_every_route_with_a_wrong_key_is_401(live_server, operator_key, target, method, path, permission):
    wrong = operator_key[:-4] + "AAAA"

    reply = LiveApi(live_server.url, wrong).call(method, path, headers={"Content-Type": "application/json"})

    assert reply.status == 401
    assert reply.json["Message"] == "the API key is not valid (unknown or revoked)"


@pytest.mark.parametrize(("method", "path", "permission"), [route for route in ROUTES if route[2] != "view_console"])
def test_every_changing_route_with_a_viewer_key_is_403(live_server, viewer_key, target, method, path, permission):
    reply = LiveApi(live_server.url, viewer_key).call(method, path, headers={"Content-Type": "application/json"})

    assert reply.status == 403
    assert permission in reply.json["Message"]
    assert services.get(target).runtime_status in UNTOUCHED


def test_an_approver_key_reads_but_does_not_start(live_server, approver_key, target):
    api = LiveApi(live_server.url, approver_key)

    assert api.status(target).status == 202
    assert api.start("echo_orchestrator", json_body=None).status == 403


def test_a_key_is_accepted_in_the_code_query_parameter(live_server, operator_key, target):
    reply = LiveApi(live_server.url, None).status(target, code=operator_key)

    assert reply.status == 202


def test_the_header_key_wins_over_the_query_parameter(live_server, operator_key, viewer_key, target):
    api = LiveApi(live_server.url, operator_key)

    reply = api.command(target, "suspend", code=viewer_key)

    assert reply.status == 202


def test_a_key_is_accepted_in_the_sdk_base_url(live_server, operator_key, target):
    reply = LiveApi(live_server.url, None).get(f"{PREFIX}/sdk/{operator_key}/instances/{target}")

    assert (reply.status, reply.json["instanceId"]) == (202, target)


def test_a_revoked_key_is_401(live_server, operator_key, target):
    api = LiveApi(live_server.url, operator_key)
    assert api.status(target).status == 202

    apikeys.revoke(operator_key[: apikeys.PREFIX_LENGTH])

    assert api.status(target).status == 401


def test_a_key_notes_when_it_was_used(live_server, operator_key, target):
    key = ApiKey.objects.get(prefix=operator_key[: apikeys.PREFIX_LENGTH])
    assert key.last_used_at is None

    LiveApi(live_server.url, operator_key).status(target)

    key.refresh_from_db()
    assert key.last_used_at is not None


def key_prefix(plain_key: str) -> str:
    return plain_key[: apikeys.PREFIX_LENGTH]


def test_changes_are_audited_under_the_key_name_and_prefix(live_server, make_key, target):
    key = make_key("operator", name="deploy pipeline")

    LiveApi(live_server.url, key).command(target, "terminate", reason="rollback")

    entry = AuditLogEntry.objects.get(action="terminate")
    assert (entry.actor, entry.source, entry.reason) == (
        f"apikey:deploy pipeline ({key_prefix(key)})",
        "api",
        "rollback",
    )


def test_read_only_mode_refuses_changes_with_403(live_server, admin_key, target):
    api = LiveApi(live_server.url, admin_key)

    with override_settings(PERDURA_READ_ONLY=True):
        refused = api.command(target, "terminate")
        read = api.status(target)

    assert (refused.status, read.status) == (403, 202)


def test_a_key_in_the_path_never_reaches_the_logs(live_server, operator_key, caplog):
    caplog.set_level(logging.INFO)

    reply = LiveApi(live_server.url, None).get(f"{PREFIX}/sdk/{operator_key}/instances/nobody")

    assert reply.status == 404
    assert caplog.records, "a 404 is logged"
    assert f"{PREFIX}/sdk/<key>/instances/nobody" in caplog.text
    assert operator_key not in caplog.text
