"""POST orchestrators/{functionName}[/{instanceId}] and the /api/orchestrators HTTP starter."""

from __future__ import annotations

import pytest

from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import HistoryRow, Instance
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.live import PREFIX, LiveApi, segment

PAYLOAD_FIELDS = [
    "id",
    "statusQueryGetUri",
    "sendEventPostUri",
    "terminatePostUri",
    "rewindPostUri",
    "purgeHistoryDeleteUri",
    "restartPostUri",
    "suspendPostUri",
    "resumePostUri",
]
#: An id that needs URL-encoding: a space, a percent sign, a plus, non-ASCII letters.
AWKWARD_ID = "order 42 %+&=;,ä€"
PAYLOADS = [{"order": 42, "items": ["a", "b"]}, [1, "two", None], "text", 3.5, 0, None, True]


def test_start_answers_202_with_the_check_status_payload(api, live_server):
    reply = api.start("echo_orchestrator", "first", json_body={"x": 1})

    assert reply.status == 202
    payload = reply.json
    assert list(payload) == PAYLOAD_FIELDS
    instance = f"{live_server.url}{PREFIX}/instances/first"
    assert payload == {
        "id": "first",
        "statusQueryGetUri": instance,
        "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}",
        "terminatePostUri": f"{instance}/terminate?reason={{text}}",
        "rewindPostUri": f"{instance}/rewind?reason={{text}}",
        "purgeHistoryDeleteUri": instance,
        "restartPostUri": f"{instance}/restart",
        "suspendPostUri": f"{instance}/suspend?reason={{text}}",
        "resumePostUri": f"{instance}/resume?reason={{text}}",
    }
    assert reply.header("Location") == payload["statusQueryGetUri"]
    assert reply.header("Retry-After") == "10"
    assert reply.header("Content-Type") == "application/json"
    assert services.get("first").name == "echo_orchestrator"


def test_start_without_an_id_gives_the_instance_a_new_one(api):
    reply = api.start("echo_orchestrator", json_body="hi")

    instance_id = reply.json["id"]
    assert reply.status == 202
    assert len(instance_id) == 32
    assert services.get(instance_id).name == "echo_orchestrator"


def test_start_takes_an_id_that_needs_url_encoding(api, live_server):
    reply = api.start("echo_orchestrator", AWKWARD_ID, json_body=1)

    assert reply.status == 202
    assert reply.json["id"] == AWKWARD_ID
    assert reply.json["statusQueryGetUri"] == f"{live_server.url}{PREFIX}/instances/{segment(AWKWARD_ID)}"
    assert services.get(AWKWARD_ID).instance_id == AWKWARD_ID
    assert api.get(reply.json["statusQueryGetUri"].removeprefix(live_server.url)).json["instanceId"] == AWKWARD_ID


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda payload: type(payload).__name__)
def test_start_passes_json_of_every_type_as_the_input(api, payload):
    api.start("echo_orchestrator", "typed", json_body=payload)
    settle()

    document = api.status("typed").json
    assert document["input"] == payload
    assert document["output"] == payload
    assert document["runtimeStatus"] == "Completed"


def test_start_with_an_empty_body_has_no_input(api):
    api.start("echo_orchestrator", "empty")
    settle()

    assert api.status("empty").json["input"] is None


def test_start_stores_the_version(api):
    api.start("echo_orchestrator", "versioned", query={"version": "2.1"}, json_body=None)

    assert services.get("versioned").version == "2.1"


def test_start_of_an_unknown_orchestrator_is_400_with_the_reason(api):
    reply = api.start("no_such_orchestrator", json_body=None)

    assert reply.status == 400
    assert "no_such_orchestrator" in reply.json["ExceptionMessage"]
    assert reply.json["ExceptionType"] == "BadInputError"
    assert reply.json["Message"]


def test_start_with_a_body_that_is_not_json_is_400(api):
    reply = api.start("echo_orchestrator", body=b"{not json", headers={"Content-Type": "application/json"})

    assert reply.status == 400
    assert reply.json["Message"].startswith("Invalid JSON content")


@pytest.mark.parametrize("depth", [65, 200_000])
def test_start_with_a_body_nested_too_deeply_is_400_and_starts_nothing(api, depth):
    body = ("[" * depth + "]" * depth).encode()

    reply = api.start("echo_orchestrator", body=body, headers={"Content-Type": "application/json"})

    assert reply.status == 400
    assert "nested too deeply (at most 64 levels)" in reply.json["Message"]
    assert not Instance.objects.exists()


def test_start_with_an_invalid_id_is_400(api):
    reply = api.start("echo_orchestrator", "@entity-like", json_body=None)

    assert reply.status == 400
    assert "may not start with '@'" in reply.json["Message"]


def test_start_under_the_id_of_a_running_instance_is_409(api):
    api.start("wait_for_approval", "busy", json_body=None)

    reply = api.start("echo_orchestrator", "busy", json_body=None)

    assert reply.status == 409
    assert services.get("busy").name == "wait_for_approval"


def test_start_under_the_id_of_a_finished_instance_replaces_it(api):
    api.start("echo_orchestrator", "again", json_body="one")
    settle()

    reply = api.start("echo_orchestrator", "again", json_body="two")
    settle()

    assert reply.status == 202
    assert api.status("again").json["output"] == "two"
    entry = AuditLogEntry.objects.get(action="replace", target_id="again")
    assert entry.details == {"name": "echo_orchestrator", "replaced_status": "Completed"}


def test_an_operator_key_may_not_replace_a_finished_instance_which_would_erase_its_history(
    live_server, operator_key, api
):
    """As an operator key once re-started a Terminated instance's id and its history was gone."""
    api.start("wait_for_approval", "ended", json_body=None)
    settle()
    services.terminate("ended", "done with it")
    settle()
    history = list(HistoryRow.objects.filter(instance_id="ended").order_by("sequence").values_list("pk", flat=True))

    reply = LiveApi(live_server.url, operator_key).start("echo_orchestrator", "ended", json_body="new")

    assert reply.status == 403
    assert "replacing it erases its history, which needs the purge permission" in reply.json["Message"]
    assert services.get("ended").runtime_status == "Terminated"
    assert list(HistoryRow.objects.filter(instance_id="ended").order_by("sequence").values_list("pk", flat=True)) == (
        history
    )
    assert not AuditLogEntry.objects.filter(action__in=["start", "replace"], target_id="ended", source="api").exclude(
        actor__startswith="apikey:admin"
    )


def test_an_operator_key_may_restart_a_finished_instance_under_a_new_id_only(live_server, operator_key, api):
    api.start("echo_orchestrator", "finished", json_body=1)
    settle()
    operator = LiveApi(live_server.url, operator_key)

    same_id = operator.post(api.instance_path("finished", "restart"), query={"restartWithNewInstanceId": "false"})
    new_id = operator.post(api.instance_path("finished", "restart"))

    assert same_id.status == 403
    assert new_id.status == 202
    assert new_id.json["id"] != "finished"


def test_start_is_audited_under_the_key(api):
    api.start("echo_orchestrator", "audited", json_body=None)

    entry = AuditLogEntry.objects.get(action="start", target_id="audited")
    assert entry.actor.startswith("apikey:admin test key (pdk_")
    assert entry.source == "api"


def test_start_with_a_wait_that_runs_out_answers_with_the_check_status_payload(api):
    reply = api.start("wait_for_approval", "slow", query={"timeout": 0.3, "pollingInterval": 0.1}, json_body=None)

    assert reply.status == 202
    assert reply.json["id"] == "slow"
    assert reply.header("Location") == reply.json["statusQueryGetUri"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"timeout": "soon", "pollingInterval": 1}, "timeout must be a number of seconds"),
        ({"timeout": 1, "pollingInterval": 2}, "must be at least the polling interval"),
        ({"timeout": 301, "pollingInterval": 1}, "at most 300 seconds"),
    ],
)
def test_start_with_a_bad_wait_is_400_and_starts_nothing(api, query, message):
    reply = api.start("echo_orchestrator", "unwaited", query=query, json_body=None)

    assert reply.status == 400
    assert message in reply.json["Message"]
    assert not services.query(instance_id_prefix="unwaited").instances


@pytest.mark.slow
def test_start_with_a_wait_answers_200_with_the_output_once_completed(api, workers):
    reply = api.start("echo_orchestrator", "quick", query={"timeout": 30, "pollingInterval": 0.1}, json_body=[1, 2])

    assert reply.status == 200
    assert reply.json == [1, 2]


@pytest.mark.slow
def test_start_with_a_wait_answers_200_with_the_status_of_a_failed_instance(api, workers):
    reply = api.start("failing_orchestrator", "broke", query={"timeout": 30, "pollingInterval": 0.1}, json_body="no")

    assert reply.status == 200
    assert reply.json["runtimeStatus"] == "Failed"
    assert "no" in reply.json["output"]


def test_http_starter_answers_202_with_the_check_status_payload(api, live_server):
    reply = api.post(f"/api/orchestrators/echo_orchestrator/{segment(AWKWARD_ID)}", json_body={"a": 1})

    assert reply.status == 202
    assert list(reply.json) == PAYLOAD_FIELDS
    assert reply.json["statusQueryGetUri"] == f"{live_server.url}{PREFIX}/instances/{segment(AWKWARD_ID)}"
    assert services.parse_json(services.get(AWKWARD_ID).input, "input") == {"a": 1}


def test_http_starter_without_an_id(api):
    reply = api.post("/api/orchestrators/echo_orchestrator", json_body=None)

    assert reply.status == 202
    assert services.get(reply.json["id"]).name == "echo_orchestrator"


def test_http_starter_needs_a_key(anonymous):
    reply = anonymous.post("/api/orchestrators/echo_orchestrator", json_body=None)

    assert reply.status == 401
    assert reply.json["Message"]


def test_start_with_the_key_in_the_query_hands_back_links_that_carry_it(live_server, operator_key):
    from tests.orchestrations.api.live import LiveApi

    api = LiveApi(live_server.url, operator_key)
    reply = api.start("echo_orchestrator", "linked", query={"code": operator_key}, use_key_header=False)

    payload = reply.json
    assert reply.status == 202
    assert payload["statusQueryGetUri"].endswith(f"/instances/linked?code={operator_key}")
    assert payload["terminatePostUri"].endswith(f"/terminate?reason={{text}}&code={operator_key}")
    status = api.get(payload["statusQueryGetUri"].removeprefix(live_server.url), use_key_header=False)
    assert status.status == 202
