"""Running a function by hand at each door: POST /admin/functions/{name} with an admin key,
``durable invoke``, and the service both call (the console's form: test_function_console.py)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from functions.models import Invocation, QueuedMessage
from functions.services import run_by_hand
from orchestrations.access import apikeys
from orchestrations.access.audit import Actor
from orchestrations.access.models import AuditLogEntry
from tests.orchestrations.management.runner import durable

pytestmark = pytest.mark.django_db

ACTOR = Actor("tester", "cli")


# The service.


def test_a_timer_function_gets_a_request_that_is_not_past_due():
    ran = run_by_hand.run("console_yearly", "ignored", actor=ACTOR)

    invocation = Invocation.objects.get()
    assert invocation == ran.invocation
    assert (invocation.trigger, invocation.status, invocation.output) == ("manual", "Completed", '{"past_due":false}')
    assert "ran with past_due=False" in invocation.logs


def test_a_queue_function_gets_the_input_as_its_message_and_its_outputs_are_put_in_one_go():
    ran = run_by_hand.run("console_forward", {"order": 7}, actor=ACTOR)

    assert ran.messages_put == 2
    bodies = sorted(QueuedMessage.objects.filter(queue="console-out").values_list("body", flat=True))
    assert bodies == sorted(['{"order": 7}', "second"])
    assert AuditLogEntry.objects.get().details["messages_put"] == 2


def test_a_failing_function_is_recorded_with_its_error_and_puts_nothing():
    ran = run_by_hand.run("console_broken", "this", actor=ACTOR)

    invocation = ran.invocation
    assert (invocation.status, invocation.error_type, invocation.error_message) == (
        "Failed",
        "RuntimeError",
        "cannot take this",
    )
    assert "Traceback" in invocation.traceback
    assert not QueuedMessage.objects.exists()


def test_unknown_and_http_functions_are_refused_and_nothing_is_written():
    with pytest.raises(run_by_hand.FunctionNotFoundError, match="no_such"):
        run_by_hand.run("no_such", None, actor=ACTOR)
    with pytest.raises(run_by_hand.NotRunByHandError, match="call its route"):
        run_by_hand.run("console_hello", None, actor=ACTOR)
    assert not Invocation.objects.exists()
    assert not AuditLogEntry.objects.exists()


def test_an_input_over_the_payload_limit_is_refused(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 10

    with pytest.raises(run_by_hand.InputTooLargeError):
        run_by_hand.run("console_double", "x" * 20, actor=ACTOR)
    assert not Invocation.objects.exists()


# The admin endpoint.


@pytest.fixture
def key_of():
    def make(role: str) -> str:
        return apikeys.create(f"{role} key", role)[1]

    return make


def post(name: str, body, key: str | None) -> tuple[int, dict]:
    headers = {"HTTP_X_FUNCTIONS_KEY": key} if key else {}
    data = body if isinstance(body, str) else json.dumps(body)
    response = Client().post(f"/admin/functions/{name}", data, content_type="application/json", **headers)
    return response.status_code, json.loads(response.content)


def test_the_admin_endpoint_runs_the_function_and_answers_with_the_invocation(key_of):
    status, body = post("console_double", {"input": 4}, key_of("admin"))

    invocation = Invocation.objects.get()
    assert status == 200
    assert (body["id"], body["status"], body["output"], body["trigger"]) == (
        invocation.invocation_id,
        "Completed",
        8,
        "manual",
    )
    assert AuditLogEntry.objects.get().actor.startswith("apikey:admin key")


def test_the_admin_endpoint_needs_a_key_whose_role_may_invoke(key_of):
    assert post("console_double", {"input": 4}, None)[0] == 401
    assert post("console_double", {"input": 4}, key_of("viewer"))[0] == 403
    assert not Invocation.objects.exists()


def test_the_admin_endpoint_refuses_bad_input(key_of, settings):
    key = key_of("admin")
    assert post("console_double", "{not json", key)[0] == 400
    assert post("console_double", {"inputs": 1}, key)[0] == 400
    assert post("console_double", [1], key)[0] == 400
    assert post("console_hello", {"input": None}, key)[0] == 400
    assert post("no_such", {"input": None}, key)[0] == 404
    settings.PERDURA_MAX_PAYLOAD_BYTES = 10
    assert post("console_double", {"input": "x" * 20}, key)[0] == 413
    assert not Invocation.objects.exists()


def test_the_admin_endpoint_is_read_only_when_the_deployment_is(key_of, settings):
    key = key_of("admin")
    settings.PERDURA_READ_ONLY = True

    assert post("console_double", {"input": 4}, key)[0] == 403
    assert not Invocation.objects.exists()


def test_the_admin_endpoint_takes_only_post(key_of):
    response = Client().get("/admin/functions/console_double", HTTP_X_FUNCTIONS_KEY=key_of("admin"))
    assert response.status_code == 405


# The CLI.


def test_durable_invoke_prints_the_invocation_id_and_result():
    outcome = durable("invoke", "console_double", "--input", "[1, 2]")

    invocation = Invocation.objects.get()
    lines = outcome.stdout.splitlines()
    assert outcome.exit_code == 0
    assert lines[0] == invocation.invocation_id
    assert lines[1].startswith("status: Completed")
    assert "result: [\n  1,\n  2,\n  1,\n  2\n]" in outcome.stdout
    assert AuditLogEntry.objects.get().source == "cli"


def test_durable_invoke_exits_1_when_the_function_failed():
    outcome = durable("invoke", "console_broken", "--input", '"it"')

    assert outcome.exit_code == 1
    assert "RuntimeError: cannot take it" in outcome.stderr
    assert Invocation.objects.get().status == "Failed"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no_such"], "no_such"),
        (["console_hello"], "call its route"),
        (["console_double", "--input", "{bad"], "--input"),
    ],
)
def test_durable_invoke_exits_2_for_bad_input_and_runs_nothing(args, says):
    outcome = durable("invoke", *args)

    assert outcome.exit_code == 2
    assert says in outcome.stderr
    assert not Invocation.objects.exists()


def test_durable_invoke_is_refused_when_read_only(settings):
    settings.PERDURA_READ_ONLY = True

    outcome = durable("invoke", "console_double", "--input", "1")

    assert outcome.exit_code == 2
    assert not Invocation.objects.exists()
