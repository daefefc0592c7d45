"""samples/azure_app: an Azure Functions app, written with the official SDKs only, run by
Perdura as it is: the HTTP starter and the other HTTP functions through Django's test client,
each Durable Functions pattern to its end, the counter entity, the timer and the queue
function."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import samples.azure_app.function_app as azure_sample
from functions.azure.host_files import read_host_json
from functions.azure.loader import register_azure_apps
from functions.models import Invocation, QueuedMessage, TimerSchedule
from functions.registry import FunctionKind, registry
from functions.schedules import parse_schedule
from functions.store import queues
from functions.worker import recorder, timers
from orchestrations import services
from orchestrations.access.links import link_key
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import HistoryRow, Instance
from orchestrations.services.links import instance_created_at
from orchestrations.worker.loop import drain_all
from tests.conftest import TEST_FUNCTION_APPS, WorkerProcess
from tests.samples import COMPLETION_TIMEOUT, output_of

# Registered as Perdura registers a module named in PERDURA_FUNCTION_APPS; tests/function_apps.py,
# which registers the other test apps, does not name the sample.
register_azure_apps(azure_sample)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_recorder")]

#: Its subtotal, 107.00, earns the 10% discount.
BIG_ORDER = {
    "id": "A-1",
    "lines": [{"sku": "tea", "qty": 2, "unit_cents": 450}, {"sku": "kettle", "qty": 1, "unit_cents": 9800}],
}
SMALL_ORDER = {"id": "A-2", "lines": [{"sku": "mug", "qty": 3, "unit_cents": 1200}]}


@pytest.fixture
def worker_process(transactional_db):
    """Takes the place of tests/conftest.py's for this module's tests: the ``workers`` fixture
    asks for ``worker_process`` by name, so in CI's Celery mode the worker processes load the
    sample beside the test apps."""
    process = WorkerProcess({"PERDURA_FUNCTION_APPS": f"{TEST_FUNCTION_APPS},samples.azure_app.function_app"}).start()
    yield process
    process.stop()


def event_types(instance_id: str) -> list[str]:
    rows = HistoryRow.objects.filter(instance_id=instance_id).order_by("execution_id", "sequence")
    return [row.event_type for row in rows]


def test_every_function_is_registered_under_its_azure_name():
    durable = {
        FunctionKind.ORCHESTRATOR: [
            "azsample_chaining",
            "azsample_fan_out_fan_in",
            "azsample_sub_orchestration",
            "azsample_human_interaction",
            "azsample_monitor",  # From the blueprint.
            "azsample_eternal",
        ],
        FunctionKind.ACTIVITY: ["azsample_price_order", "azsample_check_export", "azsample_tidy_up"],
        FunctionKind.ENTITY: ["azsample_counter"],
        FunctionKind.HTTP: ["azsample_http_start", "azsample_http_approve", "azsample_http_read_counter"],
        FunctionKind.QUEUE: ["azsample_pack_order"],
    }
    for kind, names in durable.items():
        for name in names:
            assert registry.get(kind, name).name == name


def test_the_timer_is_registered_with_its_yearly_schedule():
    timer = registry.get(FunctionKind.TIMER, "azsample_new_year")

    assert timer.trigger.schedule == parse_schedule("0 0 0 1 1 *")
    assert timer.trigger.run_on_startup is False


def test_the_sample_s_host_json_maps_onto_perdura_s_settings_without_a_warning(settings, monkeypatch, caplog):
    for name in ("PERDURA_HTTP_ROUTE_PREFIX", "PERDURA_TASK_HUB"):
        setattr(settings, name, getattr(settings, name))  # Taken back at the test's end.
        monkeypatch.delenv(name, raising=False)

    with caplog.at_level(logging.WARNING, logger="perdura.functions"):
        applied = read_host_json(Path(azure_sample.__file__).parent)

    assert applied == {"PERDURA_HTTP_ROUTE_PREFIX": "api", "PERDURA_TASK_HUB": "PerduraSample"}
    assert not caplog.records


# The HTTP starter.


def test_the_http_starter_answers_202_with_the_check_status_links(client):
    response = client.post(
        "/api/azure/orchestrators/azsample_chaining", data=BIG_ORDER, content_type="application/json"
    )

    assert response.status_code == 202
    payload = response.json()
    instance_id = payload["id"]
    base = f"http://testserver/runtime/webhooks/durabletask/instances/{instance_id}"
    code = f"code={link_key(instance_id, instance_created_at(instance_id))}"
    assert payload["statusQueryGetUri"] == f"{base}?{code}"
    assert response["Location"] == f"{base}?{code}"
    assert payload["sendEventPostUri"] == f"{base}/raiseEvent/{{eventName}}?{code}"
    assert payload["terminatePostUri"] == f"{base}/terminate?reason={{text}}&{code}"
    assert payload["purgeHistoryDeleteUri"] == f"{base}?{code}"
    assert output_of(instance_id) == "Invoice A-1: 96.30 (discount 10.70)"
    assert AuditLogEntry.objects.get(target_id=instance_id).actor == "function:azsample_http_start"


def test_the_http_starter_starts_an_orchestrator_without_an_input_when_there_is_no_body(client):
    response = client.post("/api/azure/orchestrators/azsample_fan_out_fan_in")

    assert response.status_code == 202
    assert output_of(response.json()["id"]) == {"documents": 0, "words": 0, "longest": 0}


def test_the_anonymous_starter_and_approval_reach_only_the_sample_s_own_orchestrations(client):
    other = services.start("wait_for_approval")  # Another app's, waiting for an event.

    assert client.post("/api/azure/orchestrators/wait_for_approval").status_code == 404
    refused = client.post(f"/api/azure/approvals/{other}", data={"approved": True}, content_type="application/json")
    assert refused.status_code == 404
    drain_all()
    assert services.get(other).runtime_status == "Running"
    assert Instance.objects.filter(name="wait_for_approval").count() == 1  # The starter started nothing.


# The orchestration patterns.


@pytest.mark.parametrize(
    ("order", "invoice"),
    [(BIG_ORDER, "Invoice A-1: 96.30 (discount 10.70)"), (SMALL_ORDER, "Invoice A-2: 36.00 (discount 0.00)")],
)
def test_chaining_prices_discounts_and_invoices_one_step_after_another(order, invoice):
    instance_id = services.start("azsample_chaining", order)

    assert output_of(instance_id) == invoice
    calls = [t for t in event_types(instance_id) if t in ("TaskScheduled", "TaskCompleted")]
    assert calls == ["TaskScheduled", "TaskCompleted"] * 3


def test_fan_out_fan_in_counts_every_document_in_parallel():
    documents = [" ".join(["word"] * size) for size in range(1, 21)]
    instance_id = services.start("azsample_fan_out_fan_in", documents)

    assert output_of(instance_id) == {"documents": 20, "words": sum(range(1, 21)), "longest": 20}
    kinds = event_types(instance_id)
    # Every activity is scheduled before the first one's result is in.
    assert kinds.count("TaskScheduled") == 20
    assert max(i for i, kind in enumerate(kinds) if kind == "TaskScheduled") < kinds.index("TaskCompleted")


def test_the_sub_orchestration_invoices_each_order_in_a_child_instance():
    instance_id = services.start("azsample_sub_orchestration", [BIG_ORDER, SMALL_ORDER])

    assert output_of(instance_id) == ["Invoice A-1: 96.30 (discount 10.70)", "Invoice A-2: 36.00 (discount 0.00)"]
    for order_id in ("A-1", "A-2"):
        child = services.get(f"{instance_id}-{order_id}")
        assert (child.runtime_status, child.parent_instance_id) == ("Completed", instance_id)


@pytest.mark.parametrize(("approved", "outcome"), [(True, "approved"), (False, "rejected")])
def test_an_approval_posted_over_http_ends_the_wait_and_cancels_the_timer(client, approved, outcome):
    instance_id = services.start("azsample_human_interaction", {"id": "refund-9", "approver": "ada"})
    drain_all()
    assert services.get(instance_id).runtime_status == "Running"

    response = client.post(
        f"/api/azure/approvals/{instance_id}",
        data={"approved": approved, "by": "ada"},
        content_type="application/json",
    )

    assert response.status_code == 202
    assert output_of(instance_id) == {"request": "refund-9", "outcome": outcome, "by": "ada"}
    assert "TimerFired" not in event_types(instance_id)


def test_without_an_approval_the_timer_fires_and_the_request_is_escalated():
    request = {"id": "refund-10", "approver": "ada", "timeout_seconds": 0.1}
    instance_id = services.start("azsample_human_interaction", request)

    assert output_of(instance_id) == {"request": "refund-10", "outcome": "escalated", "by": "the duty manager"}
    assert "TimerFired" in event_types(instance_id)


def test_the_monitor_polls_on_a_timer_until_the_export_is_ready():
    job = {"export": "sales-2024", "interval_seconds": 0.05, "expiry_seconds": 3600, "ready_on_check": 3}
    instance_id = services.start("azsample_monitor", job)

    assert output_of(instance_id) == {"export": "sales-2024", "status": "ready", "checks": 3}
    assert json.loads(services.get(instance_id).custom_status) == {
        "export": "sales-2024",
        "checks": 3,
        "status": "ready",
    }
    assert event_types(instance_id).count("TimerFired") == 2


def test_the_monitor_gives_up_when_the_next_check_would_come_after_the_expiry():
    job = {"export": "sales-2025", "interval_seconds": 60, "expiry_seconds": 0, "ready_on_check": 3}
    instance_id = services.start("azsample_monitor", job)

    assert output_of(instance_id) == {"export": "sales-2025", "status": "expired", "checks": 1}
    assert "TimerCreated" not in event_types(instance_id)


def test_the_eternal_orchestration_continues_as_new_each_round():
    instance_id = services.start("azsample_eternal", {"rounds": 3, "interval_seconds": 0.05})

    assert output_of(instance_id) == "round 3: expired carts removed"
    instance = services.get(instance_id)
    assert json.loads(instance.custom_status) == {"round": 3, "summary": "round 3: expired carts removed"}
    # The third generation's input, carried by continue_as_new.
    assert json.loads(instance.input) == {"rounds": 3, "interval_seconds": 0.05, "round": 3}


# The entity, through the SDK's client in HTTP functions.


def test_the_counter_is_signalled_and_read_through_http_functions(client):
    for amount in (5, 2):
        response = client.post("/api/azure/counters/shop-1/add", data=amount, content_type="application/json")
        assert response.status_code == 202
    drain_all()

    assert client.get("/api/azure/counters/shop-1").json() == {"key": "shop-1", "exists": True, "value": 7}

    assert client.post("/api/azure/counters/shop-1/reset").status_code == 202
    drain_all()
    assert client.get("/api/azure/counters/shop-1").json() == {"key": "shop-1", "exists": True, "value": 0}


def test_a_counter_never_signalled_does_not_exist(client):
    assert client.get("/api/azure/counters/nobody").json() == {"key": "nobody", "exists": False, "value": None}


# The timer and the queue function.


def test_the_new_year_timer_resets_the_visits_counter(client):
    client.post("/api/azure/counters/visits/add", data=41, content_type="application/json")
    drain_all()
    timers.sync_timers()
    TimerSchedule.objects.filter(function_name="azsample_new_year").update(next_due="2020-01-01T00:00:00Z")

    timers.fire_due_timers("test-worker", 10)
    drain_all()

    recorder.flush()
    assert Invocation.objects.get(function_name="azsample_new_year").status == "Completed"
    assert client.get("/api/azure/counters/visits").json()["value"] == 0


def test_a_queued_order_is_packed_and_its_shipment_put_on_the_next_queue():
    queues.put_messages("azsample-orders", [json.dumps(BIG_ORDER), json.dumps(SMALL_ORDER)])

    drain_all()

    shipments = [json.loads(message.body) for message in QueuedMessage.objects.filter(queue="azsample-shipments")]
    assert sorted(shipments, key=lambda shipment: shipment["order"]) == [
        {"order": "A-1", "items": 3, "parcels": 1},
        {"order": "A-2", "items": 3, "parcels": 1},
    ]
    assert not QueuedMessage.objects.filter(queue="azsample-orders").exists()


@pytest.mark.slow
def test_a_batch_of_orders_is_invoiced_with_background_workers(workers):
    instance_id = services.start("azsample_sub_orchestration", [BIG_ORDER, SMALL_ORDER])

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == [
        "Invoice A-1: 96.30 (discount 10.70)",
        "Invoice A-2: 36.00 (discount 0.00)",
    ]
