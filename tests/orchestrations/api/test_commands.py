"""POST instances/{instanceId}/terminate, suspend, resume, rewind and restart."""

from __future__ import annotations

import pytest

from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.live import PREFIX, LiveApi, segment
from tests.orchestrations.api.test_start import AWKWARD_ID, PAYLOAD_FIELDS


@pytest.fixture
def waiting(transactional_db):
    services.start("wait_for_approval", instance_id="waiting")
    settle()
    return "waiting"


@pytest.fixture
def completed(transactional_db):
    services.start("echo_orchestrator", {"x": 1}, instance_id="completed")
    settle()
    return "completed"


def status_of(instance_id: str) -> str:
    return services.get(instance_id).runtime_status


def test_terminate_ends_the_instance_with_the_reason(api, waiting):
    reply = api.command(waiting, "terminate", reason="no longer needed")
    settle()

    assert reply.status == 202
    assert reply.json["Message"]
    document = api.status(waiting).json
    assert (document["runtimeStatus"], document["output"]) == ("Terminated", "no longer needed")
    entry = AuditLogEntry.objects.get(action="terminate")
    assert (entry.target_id, entry.reason) == ("waiting", "no longer needed")
    assert entry.actor.startswith("apikey:admin test key (pdk_")


def test_suspend_then_resume(api, waiting):
    suspended = api.command(waiting, "suspend", reason="maintenance")
    settle()
    assert (suspended.status, status_of(waiting)) == (202, "Suspended")

    resumed = api.command(waiting, "resume", reason="done")
    settle()
    assert (resumed.status, status_of(waiting)) == (202, "Running")


def test_commands_on_an_id_that_needs_url_encoding(api):
    services.start("wait_for_approval", instance_id=AWKWARD_ID)
    settle()

    reply = api.post(f"{PREFIX}/instances/{segment(AWKWARD_ID)}/terminate")
    settle()

    assert reply.status == 202
    assert status_of(AWKWARD_ID) == "Terminated"


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume", "rewind", "restart"])
def test_commands_on_an_unknown_instance_are_404(api, operation):
    reply = api.command("nobody", operation)

    assert reply.status == 404
    assert "nobody" in reply.json["Message"]


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume"])
def test_commands_on_a_finished_instance_are_410(api, completed, operation):
    reply = api.command(completed, operation, reason="too late")

    assert reply.status == 410
    assert status_of(completed) == "Completed"


@pytest.mark.parametrize(
    ("operation", "permission"),
    [
        ("terminate", "terminate_instance"),
        ("suspend", "suspend_instance"),
        ("resume", "resume_instance"),
        ("rewind", "rewind_instance"),
        ("restart", "restart_instance"),
    ],
)
def test_commands_need_their_permission(live_server, viewer_key, waiting, operation, permission):
    reply = LiveApi(live_server.url, viewer_key).command(waiting, operation)

    assert reply.status == 403
    assert permission in reply.json["Message"]
    assert status_of(waiting) == "Running"


def test_commands_only_take_post(api, waiting):
    reply = api.get(api.instance_path(waiting, "terminate"))

    assert reply.status == 405
    assert reply.header("Allow") == "POST"
    assert reply.json["Message"]


def test_rewind_takes_a_failed_instance_back_and_carries_on(api):
    services.start(
        "call_activity_by_name", {"activity": "fail_first_time", "input": "k"}, instance_id="flaky", version=""
    )
    settle()
    assert status_of("flaky") == "Failed"

    reply = api.command("flaky", "rewind", reason="fixed")
    settle()

    assert reply.status == 202
    document = api.status("flaky").json
    assert (document["runtimeStatus"], document["output"]) == ("Completed", "recovered k")


def test_rewind_of_an_instance_that_has_not_failed_is_412(api, completed):
    reply = api.command(completed, "rewind")

    assert reply.status == 412
    assert "only a failed instance can be rewound" in reply.json["Message"]


def test_restart_starts_a_new_instance_with_the_original_input(api, completed, live_server):
    reply = api.command(completed, "restart")
    settle()

    assert reply.status == 202
    assert list(reply.json) == PAYLOAD_FIELDS
    new_id = reply.json["id"]
    assert new_id != completed
    assert reply.header("Location") == f"{live_server.url}{PREFIX}/instances/{new_id}"
    assert api.status(new_id).json["output"] == {"x": 1}


def test_restart_under_the_same_id(api, completed):
    first_execution = services.get(completed).execution_id

    reply = api.command(completed, "restart", restartWithNewInstanceId="false")
    settle()

    assert (reply.status, reply.json["id"]) == (202, completed)
    restarted = services.get(completed)
    assert restarted.execution_id != first_execution
    assert (restarted.runtime_status, api.status(completed).json["output"]) == ("Completed", {"x": 1})


def test_restart_under_the_same_id_of_a_running_instance_is_409(api, waiting):
    reply = api.command(waiting, "restart", restartWithNewInstanceId="false")

    assert reply.status == 409
    assert "restart with a new id instead" in reply.json["Message"]


def test_restart_with_a_wait_that_runs_out_is_202(api, waiting):
    reply = api.command(waiting, "restart", timeout=0.2, pollingInterval=0.1)

    assert reply.status == 202
    assert reply.json["id"] != waiting


@pytest.mark.slow
def test_restart_with_a_wait_answers_200_with_the_output(api, completed, workers):
    reply = api.command(completed, "restart", timeout=30, pollingInterval=0.1)

    assert (reply.status, reply.json) == (200, {"x": 1})
