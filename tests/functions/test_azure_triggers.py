"""The functions of an Azure Functions app run by events (tests/azure_function_app.py): HTTP
functions get ``azure.functions.HttpRequest`` and answer ``HttpResponse``; the SDK's own
``DurableOrchestrationClient`` starts and manages orchestrations and entities through the
HTTP API in process; timers get ``TimerRequest``, queue functions ``QueueMessage`` and put
their ``func.Out`` messages; and an app using a binding Perdura lacks is refused at start."""

from __future__ import annotations

import importlib
import json
import sys
import types

import pytest

from functions.azure.loader import UnsupportedBindingError, register_azure_apps
from functions.models import Invocation, QueuedMessage, TimerSchedule
from functions.registry import FunctionKind, registry
from functions.store import queues
from functions.worker import recorder, timers
from orchestrations import services
from orchestrations.access.links import link_key
from orchestrations.access.models import AuditLogEntry
from orchestrations.services.links import instance_created_at
from orchestrations.worker.loop import drain_all

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_recorder")]


@pytest.fixture
def client(function_client):
    """Through Django's handler and as a server calls the application."""
    return function_client


def test_an_http_function_gets_azure_s_request_and_answers_azure_s_response(client):
    response = client.get("/api/az/hello/Ada", {"greeting": "Hi"})

    assert (response.status_code, response.content) == (200, b"Hi Ada")
    assert response["X-From"] == "azure"
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_the_body_reaches_an_azure_function_whole(client):
    response = client.post("/api/az/echo", data=b"a,b\n1,2", content_type="text/csv")

    assert (response.status_code, response.content) == (201, b"a,b\n1,2")
    assert response["Content-Type"].startswith("text/csv")


def test_the_sdk_s_client_starts_an_orchestration_and_answers_its_check_status_response(client):
    response = client.post("/api/az/start/az_chaining", data=["Rome"], content_type="application/json")

    assert response.status_code == 202
    payload = response.json()
    instance_id = payload["id"]
    assert response["Location"] == payload["statusQueryGetUri"]
    assert payload["statusQueryGetUri"] == (
        f"http://testserver/runtime/webhooks/durabletask/instances/{instance_id}?code={link_key(instance_id, instance_created_at(instance_id))}"
    )
    drain_all()
    # The links work as given, as on Azure: they carry the key of this one instance.
    assert client.get(payload["statusQueryGetUri"]).json()["runtimeStatus"] == "Completed"
    status = client.get(f"/api/az/status/{instance_id}").json()
    assert status == {"runtimeStatus": "Completed", "output": ["Hello Rome!"]}
    started = AuditLogEntry.objects.get(target_id=instance_id)
    assert started.actor == "function:az_http_start"


def test_the_sdk_s_client_raises_events_and_signals_and_reads_entities(client):
    instance_id = services.start("az_human_interaction", 3600)
    drain_all()

    assert (
        client.post(
            f"/api/az/raise/{instance_id}/Approval", data=json.dumps("yes"), content_type="application/json"
        ).status_code
        == 202
    )
    drain_all()
    assert json.loads(services.get(instance_id).output) == "approved: yes"

    assert client.post("/api/az/counter/by-http", data=5, content_type="application/json").status_code == 202
    assert client.post("/api/az/counter/by-http", data=2, content_type="application/json").status_code == 202
    drain_all()
    assert client.get("/api/az/counter/by-http").json() == 7


def test_the_sdk_s_client_is_refused_changes_in_read_only_mode(client, settings):
    settings.PERDURA_READ_ONLY = True

    response = client.post("/api/az/start/az_chaining", data=["Rome"], content_type="application/json")

    assert response.status_code == 500
    recorder.flush()
    row = Invocation.objects.get(function_name="az_http_start")
    assert "read-only" in row.error_message


def test_a_timer_gets_azure_s_timer_request(monkeypatch):
    monkeypatch.setenv("AzureWebJobs.az_yearly.Disabled", "false")
    timers.sync_timers()
    TimerSchedule.objects.filter(function_name="az_yearly").update(next_due="2020-01-01T00:00:00Z")

    assert timers.fire_due_timers("test-worker", 10) == 1
    run = Invocation.objects.get(function_name="az_yearly")
    assert run.status == "Completed"
    assert "past due: True" in run.logs


def test_a_queue_function_gets_azure_s_message_and_puts_its_output():
    queues.put_messages("az-orders", [json.dumps({"id": "o-1"})])

    drain_all()

    [receipt] = QueuedMessage.objects.filter(queue="az-receipts")
    assert receipt.body == "received o-1 on delivery 1"


def test_durable_functions_are_registered_under_their_azure_names():
    assert registry.get(FunctionKind.ACTIVITY, "az_say_hello")
    assert registry.get(FunctionKind.ORCHESTRATOR, "az_chaining")
    assert registry.get(FunctionKind.ENTITY, "az_counter")
    assert registry.get(FunctionKind.QUEUE, "az_order_consumer")  # From a blueprint.


def azure_module(source: str) -> types.ModuleType:
    """A module holding an Azure app made from ``source``."""
    module = types.ModuleType("tests_azure_scratch")
    exec(compile(source, "tests_azure_scratch.py", "exec"), module.__dict__)
    return module


@pytest.fixture
def scratch_registry(fresh_registry):
    return fresh_registry


def test_an_unsupported_binding_stops_the_start_naming_the_function_and_binding(scratch_registry):
    module = azure_module(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.blob_trigger(arg_name='blob', path='in/{name}', connection='AzureWebJobsStorage')\n"
        "def on_upload(blob: func.InputStream) -> None:\n"
        "    pass\n"
    )

    with pytest.raises(UnsupportedBindingError) as refused:
        register_azure_apps(module)

    assert "'on_upload'" in str(refused.value)
    assert "blobTrigger" in str(refused.value)


def test_a_bad_route_of_an_azure_function_is_refused_with_its_name(scratch_registry):
    module = azure_module(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.route(route='orders/{id:nosuchtype}')\n"
        "def get_order(req: func.HttpRequest) -> str:\n"
        "    return 'x'\n"
    )

    with pytest.raises(Exception, match="get_order"):
        register_azure_apps(module)


def test_activity_and_orchestration_aliases_are_the_registered_names(scratch_registry):
    module = azure_module(
        "import azure.durable_functions as df\n"
        "app = df.DFApp()\n"
        "@app.activity_trigger(input_name='x', activity='Double')\n"
        "def double(x: int) -> int:\n"
        "    return 2 * x\n"
        "@app.orchestration_trigger(context_name='context', orchestration='Doubler')\n"
        "def doubler(context):\n"
        "    return (yield context.call_activity('Double', 2))\n"
    )

    assert register_azure_apps(module) == 2
    assert scratch_registry.get(FunctionKind.ACTIVITY, "Double")
    assert scratch_registry.get(FunctionKind.ORCHESTRATOR, "Doubler")


def test_a_module_without_an_azure_app_registers_nothing(scratch_registry):
    assert register_azure_apps(importlib.import_module("samples")) == 0
    assert "azure.functions" in sys.modules  # Imported by the test apps; samples hold no Azure app.


def test_an_http_response_set_on_an_out_binding_is_the_answer(scratch_registry):
    from functions.bindings import HttpRequest

    module = azure_module(
        "import azure.functions as func\n"
        "app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)\n"
        "@app.route(route='scratch/out', binding_arg_name='res')\n"
        "def scratch_out(req: func.HttpRequest, res: func.Out[func.HttpResponse]) -> None:\n"
        "    res.set(func.HttpResponse('set on the binding', status_code=203))\n"
    )
    register_azure_apps(module)
    function = scratch_registry.get(FunctionKind.HTTP, "scratch_out")

    answer = function.func(req=HttpRequest("GET", "http://testserver/api/scratch/out", body=b""))

    assert (answer.status_code, answer.get_body()) == (203, b"set on the binding")


def test_app_setting_references_in_bindings_are_read_from_the_environment(scratch_registry, monkeypatch):
    source = (
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.queue_trigger(arg_name='msg', queue_name='%ORDERS_QUEUE%', connection='AzureWebJobsStorage')\n"
        "def scratch_orders(msg: func.QueueMessage) -> None:\n"
        "    pass\n"
    )
    monkeypatch.delenv("ORDERS_QUEUE", raising=False)
    with pytest.raises(Exception, match=r"scratch_orders.*'ORDERS_QUEUE', which is not set"):
        register_azure_apps(azure_module(source))

    monkeypatch.setenv("ORDERS_QUEUE", "orders-from-setting")
    register_azure_apps(azure_module(source))
    assert scratch_registry.get(FunctionKind.QUEUE, "scratch_orders").trigger.queue_name == "orders-from-setting"


def test_an_activity_with_a_durable_client_starts_orchestrations(scratch_registry):
    module = azure_module(
        "import azure.durable_functions as df\n"
        "app = df.DFApp()\n"
        "@app.activity_trigger(input_name='order')\n"
        "@app.durable_client_input(client_name='client')\n"
        "async def scratch_dispatch(order: str, client) -> str:\n"
        "    return await client.start_new('echo_orchestrator', client_input=order)\n"
    )
    register_azure_apps(module)

    instance_id = scratch_registry.get(FunctionKind.ACTIVITY, "scratch_dispatch").func("order-7")

    assert services.get(instance_id).name == "echo_orchestrator"


@pytest.mark.slow
def test_the_starter_queue_and_timer_functions_run_on_background_workers(workers):
    """In CI's second run, on PostgreSQL with Celery worker processes: the orchestration the
    HTTP starter started, the queue message and the timer's run all happen there."""
    from django.test import Client

    from functions.services import timers as timer_services
    from orchestrations.access.audit import Actor
    from tests.conftest import wait_until
    from tests.samples import COMPLETION_TIMEOUT

    response = Client().post("/api/az/start/az_chaining", data=["Kyiv"], content_type="application/json")
    queues.put_messages("az-orders", [json.dumps({"id": "background-1"})])
    timer_services.run_now("az_yearly", actor=Actor.for_cli())

    instance = services.wait_for_completion(response.json()["id"], timeout=COMPLETION_TIMEOUT)
    assert json.loads(instance.output) == ["Hello Kyiv!"]
    receipt = wait_until(
        lambda: QueuedMessage.objects.filter(queue="az-receipts").first(), COMPLETION_TIMEOUT, message="the receipt"
    )
    assert receipt.body == "received background-1 on delivery 1"
    run = wait_until(
        lambda: Invocation.objects.filter(function_name="az_yearly").first(),
        COMPLETION_TIMEOUT,
        message="the timer's run",
    )
    assert run.status == "Completed"


def test_the_sdk_s_client_is_refused_a_nul_as_the_http_door_refuses_it(client):
    instance_id = services.start("az_human_interaction", 3600)
    drain_all()

    response = client.post(
        f"/api/az/raise/{instance_id}/Approval", data=json.dumps("a\u0000b"), content_type="application/json"
    )

    # The API answered 400, which the SDK's raise_event reports in words of its own.
    assert response.status_code == 500
    recorder.flush()
    assert Invocation.objects.get(function_name="az_http_raise").status == "Failed"
    drain_all()
    assert services.get(instance_id).runtime_status == "Running"  # No event reached it.
