"""GET instances/{instanceId}: the status document, 202 while going and 200 once finished."""

from __future__ import annotations

from orchestrations import services
from orchestrations.models import Instance
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.live import segment

STATUS_FIELDS = [
    "name",
    "instanceId",
    "runtimeStatus",
    "input",
    "customStatus",
    "output",
    "createdTime",
    "lastUpdatedTime",
]


def test_status_of_a_pending_instance_is_202_with_location_and_retry_after(api, live_server):
    services.start("wait_for_approval", {"x": 1}, instance_id="waiting")

    reply = api.status("waiting", showInput="true")

    assert reply.status == 202
    assert list(reply.json) == STATUS_FIELDS
    # Pending until a worker runs its first episode (in CI's services run one may have).
    assert reply.json["runtimeStatus"] in ("Pending", "Running")
    assert reply.header("Location") == f"{live_server.url}{api.instance_path('waiting')}?showInput=true"
    assert reply.header("Retry-After") == "5"


def test_status_of_a_running_and_a_suspended_instance_is_202(api):
    services.start("wait_for_approval", instance_id="running")
    settle()
    assert api.status("running").status == 202

    services.suspend("running")
    settle()

    reply = api.status("running")
    assert reply.json["runtimeStatus"] == "Suspended"
    assert reply.status == 202


def test_status_of_a_completed_instance_is_200_without_location(api):
    services.start("echo_orchestrator", {"x": 1}, instance_id="done")
    settle()
    instance = services.get("done")

    reply = api.status("done")

    assert reply.status == 200
    assert reply.header("Location") is None
    assert reply.json == {
        "name": "echo_orchestrator",
        "instanceId": "done",
        "runtimeStatus": "Completed",
        "input": {"x": 1},
        "customStatus": None,
        "output": {"x": 1},
        "createdTime": instance.created_at.isoformat().replace("+00:00", "Z"),
        "lastUpdatedTime": instance.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_status_of_a_failed_instance_is_200_with_the_error_as_output(api):
    services.start("failing_orchestrator", "broken", instance_id="failed")
    settle()

    reply = api.status("failed")

    assert reply.status == 200
    assert reply.json["runtimeStatus"] == "Failed"
    assert "broken" in reply.json["output"]


def test_status_of_a_failed_instance_is_500_when_asked(api):
    services.start("failing_orchestrator", "broken", instance_id="failed")
    settle()

    reply = api.status("failed", returnInternalServerErrorOnFailure="true")

    assert reply.status == 500
    assert reply.json["runtimeStatus"] == "Failed"


def test_status_of_a_terminated_instance_is_200(api):
    services.start("wait_for_approval", instance_id="stopped")
    services.terminate("stopped", "enough")
    settle()

    reply = api.status("stopped")

    assert (reply.status, reply.json["runtimeStatus"], reply.json["output"]) == (200, "Terminated", "enough")


def test_status_of_an_unknown_instance_is_404_json(api):
    reply = api.status("nobody")

    assert reply.status == 404
    assert reply.header("Content-Type") == "application/json"
    assert "nobody" in reply.json["Message"]


def test_status_of_an_id_that_needs_url_encoding(api):
    instance_id = "id with spaces, 100% ä+ü"
    services.start("echo_orchestrator", "v", instance_id=instance_id)

    reply = api.get(f"/runtime/webhooks/durabletask/instances/{segment(instance_id)}")

    assert reply.json["instanceId"] == instance_id


def test_status_leaves_the_history_out_by_default(api):
    services.start("echo_orchestrator", "v", instance_id="plain")
    settle()

    assert "historyEvents" not in api.status("plain").json


def test_status_with_history_shows_events_without_results(api):
    services.start("echo_orchestrator", "hi", instance_id="told")
    settle()

    events = api.status("told", showHistory="true").json["historyEvents"]

    assert [event["EventType"] for event in events] == [
        "ExecutionStarted",
        "TaskScheduled",
        "TaskCompleted",
        "ExecutionCompleted",
    ]
    started, scheduled, completed, finished = events
    assert (started["FunctionName"], started["Input"]) == ("echo_orchestrator", "hi")
    assert (scheduled["Name"], scheduled["Input"]) == ("echo", "hi")
    assert completed["FunctionName"] == "echo"
    assert completed["ScheduledTime"] == scheduled["Timestamp"]
    assert finished["OrchestrationStatus"] == "Completed"
    assert not any("Result" in event for event in events)


def test_status_with_history_output_shows_the_results(api):
    services.start("echo_orchestrator", "hi", instance_id="told")
    settle()

    events = api.status("told", showHistory="True", showHistoryOutput="True").json["historyEvents"]

    assert [event.get("Result") for event in events] == [None, None, "hi", "hi"]


def test_status_with_show_input_false_hides_the_inputs(api):
    services.start("echo_orchestrator", "secret", instance_id="quiet")
    settle()

    document = api.status("quiet", showInput="false", showHistory="true").json

    assert document["input"] is None
    assert not any("Input" in event for event in document["historyEvents"])
    assert document["output"] == "secret"


def test_status_with_a_malformed_flag_is_400(api):
    services.start("echo_orchestrator", instance_id="flagged")

    reply = api.status("flagged", showHistory="yes")

    assert reply.status == 400
    assert "showHistory must be true or false" in reply.json["Message"]


def test_status_shows_the_custom_status(api):
    services.start("echo_orchestrator", instance_id="custom")
    settle()
    Instance.objects.filter(pk="custom").update(custom_status='{"stage": 2}')

    assert api.status("custom").json["customStatus"] == {"stage": 2}


def test_status_accepts_a_trailing_slash(api):
    services.start("echo_orchestrator", instance_id="slashed")

    assert api.get(api.instance_path("slashed") + "/").json["instanceId"] == "slashed"
