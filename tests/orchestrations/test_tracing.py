"""OpenTelemetry traces (orchestrations/store/tracing.py), read with the SDK's in-memory
exporter: an HTTP start, its episodes, three activities, an entity operation and a
sub-orchestration form one tree; so they do when a worker dies holding an activity."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from orchestrations import services
from orchestrations.access import apikeys
from orchestrations.models import Instance, WorkItem
from orchestrations.store import tracing
from orchestrations.store.claims import claim_work_items
from orchestrations.worker.loop import drain, drain_all

pytestmark = pytest.mark.django_db(transaction=True)

#: The caller's span, as its traceparent header gives it.
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.use(None)


def start_over_http(client) -> str:
    _, key = apikeys.create("caller", "operator")
    response = client.post(
        "/runtime/webhooks/durabletask/orchestrators/three_steps_and_a_child",
        data={"order": 7},
        content_type="application/json",
        HTTP_X_FUNCTIONS_KEY=key,
        HTTP_TRACEPARENT=TRACEPARENT,
    )
    assert response.status_code == 202
    return response.json()["id"]


def tree(exporter) -> dict:
    """Span id -> span; and a check that they all are in the caller's trace."""
    finished = exporter.get_finished_spans()
    assert {format(span.context.trace_id, "032x") for span in finished} == {TRACE_ID}
    return {span.context.span_id: span for span in finished}


def parent_of(span, by_id: dict):
    return by_id.get(span.parent.span_id) if span.parent else None


def named(by_id: dict, prefix: str) -> list:
    return [span for span in by_id.values() if span.name.startswith(prefix)]


def test_an_http_start_and_all_it_leads_to_form_one_tree(client, spans):
    instance_id = start_over_http(client)
    drain_all()

    assert services.get(instance_id).runtime_status == "Completed"
    by_id = tree(spans)
    [api] = named(by_id, "POST start_orchestration")
    assert format(api.parent.span_id, "016x") == CALLER_SPAN
    [start] = named(by_id, "start_orchestration three_steps_and_a_child")
    assert parent_of(start, by_id) is api
    assert start.attributes[tracing.INSTANCE_ID] == instance_id
    episodes = [s for s in named(by_id, "orchestration three_steps_and_a_child")]
    assert episodes and all(parent_of(s, by_id) is start for s in episodes)
    assert {s.attributes[tracing.INSTANCE_ID] for s in episodes} == {instance_id}
    assert episodes[-1].attributes[tracing.STATUS] == "Completed"

    activities = [s for s in named(by_id, "activity echo") if s.attributes[tracing.INSTANCE_ID] == instance_id]
    assert len(activities) == 3
    assert all(parent_of(s, by_id) in episodes for s in activities)
    assert all(s.attributes[tracing.ATTEMPT] == 1 for s in activities)

    [operation] = named(by_id, "entity journal.append")
    assert parent_of(operation, by_id) in episodes

    child_episodes = named(by_id, "orchestration echo_orchestrator")
    assert child_episodes and all(parent_of(s, by_id) in episodes for s in child_episodes)
    [child_activity] = [s for s in named(by_id, "activity echo") if s not in activities]
    assert parent_of(child_activity, by_id) in child_episodes


def test_the_tree_holds_when_a_worker_dies_holding_an_activity(client, spans):
    instance_id = start_over_http(client)
    drain("orchestrations")
    # A worker takes the first activity and dies with it: its lease runs out, another runs it.
    [taken] = claim_work_items("doomed-worker", 1)
    WorkItem.objects.filter(pk=taken.item.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    drain_all()

    assert services.get(instance_id).runtime_status == "Completed"
    by_id = tree(spans)
    [start] = named(by_id, "start_orchestration three_steps_and_a_child")
    episodes = named(by_id, "orchestration three_steps_and_a_child")
    retried = [s for s in named(by_id, "activity echo") if s.attributes[tracing.ATTEMPT] == 2]
    assert len(retried) == 1
    assert parent_of(retried[0], by_id) in episodes
    assert all(parent_of(s, by_id) is start for s in episodes)


def test_without_a_caller_s_traceparent_the_start_begins_a_trace_of_its_own(spans):
    instance_id = services.start("echo_orchestrator", 1)
    drain_all()

    finished = spans.get_finished_spans()
    assert len({span.context.trace_id for span in finished}) == 1
    [start] = [s for s in finished if s.name == "start_orchestration echo_orchestrator"]
    assert start.parent is None
    assert Instance.objects.get(pk=instance_id).trace_parent.split("-")[2] == format(start.context.span_id, "016x")


def test_tracing_is_off_unless_the_standard_variables_ask_for_it():
    assert not tracing.is_configured({})
    assert not tracing.is_configured({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert not tracing.is_configured({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"})
    assert tracing.is_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.is_configured({"OTEL_TRACES_EXPORTER": "console"})


def test_off_nothing_is_recorded_and_rows_carry_no_context():
    assert not tracing.enabled()
    instance_id = services.start("echo_orchestrator", 1)
    drain_all()

    assert Instance.objects.get(pk=instance_id).trace_parent is None


def test_an_http_function_s_invocation_is_a_span_under_its_caller_and_over_what_it_starts(client, spans):
    response = client.post(
        "/api/httptest/start/httptest_orders",
        data={"sku": "A-7"},
        content_type="application/json",
        HTTP_TRACEPARENT=TRACEPARENT,
    )
    assert response.status_code == 202
    drain_all()

    by_id = tree(spans)
    [function] = named(by_id, "function http_start")
    assert format(function.parent.span_id, "016x") == CALLER_SPAN
    assert function.attributes[tracing.STATUS] == "Completed"
    [start] = named(by_id, "start_orchestration httptest_orders")
    assert parent_of(start, by_id) is function
    assert all(parent_of(s, by_id) is start for s in named(by_id, "orchestration httptest_orders"))


class OtlpSink:
    """An OTLP/HTTP endpoint that keeps the spans worker processes export to it."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.spans: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = ExportTraceServiceRequest.FromString(self.rfile.read(int(self.headers["Content-Length"])))
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            sink.spans.append(
                                {
                                    "trace_id": span.trace_id.hex(),
                                    "span_id": span.span_id.hex(),
                                    "parent_id": span.parent_span_id.hex() or None,
                                    "name": span.name,
                                    "attributes": {
                                        a.key: a.value.string_value or a.value.int_value for a in span.attributes
                                    },
                                }
                            )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.services
@pytest.mark.slow
def test_one_tree_across_worker_processes_when_one_is_killed_mid_activity(client, spans):
    from django.db import connection

    from functions.models import Invocation
    from tests.conftest import WorkerProcess, is_celery_mode, wait_until

    if not is_celery_mode() or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL, Redis and Celery worker processes (CI's services run)")
    sink = OtlpSink()
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_SERVICE_NAME": "perdura-worker",
        "PERDURA_LEASE_SECONDS": "2",
    }
    worker = WorkerProcess(env).start()
    try:
        _, key = apikeys.create("caller", "operator")
        response = client.post(
            "/runtime/webhooks/durabletask/orchestrators/steps_with_a_nap_and_a_child",
            data=3,
            content_type="application/json",
            HTTP_X_FUNCTIONS_KEY=key,
            HTTP_TRACEPARENT=TRACEPARENT,
        )
        instance_id = response.json()["id"]
        wait_until(
            lambda: Invocation.objects.filter(function_name="nap", status="Running").exists(),
            message="the nap to start",
        )
        # A process killed loses the spans it has not exported yet (up to OTEL_BSP_SCHEDULE_DELAY):
        # the kill comes once the episode that scheduled the nap is out, as it is after a moment.
        wait_until(
            lambda: sum(s["name"] == "orchestration steps_with_a_nap_and_a_child" for s in sink.spans) >= 2,
            message="the episode that scheduled the nap to be exported",
        )
        worker.kill()  # SIGKILL, mid-nap.
        worker = WorkerProcess(env).start()
        wait_until(lambda: services.get(instance_id).runtime_status == "Completed", timeout=90, message="completion")
        wait_until(lambda: any(s["name"] == "orchestration echo_orchestrator" for s in sink.spans), message="export")
    finally:
        worker.stop()

    mine = [
        {
            "trace_id": format(s.context.trace_id, "032x"),
            "span_id": format(s.context.span_id, "016x"),
            "parent_id": format(s.parent.span_id, "016x") if s.parent else None,
            "name": s.name,
            "attributes": dict(s.attributes),
        }
        for s in spans.get_finished_spans()
    ]
    found = [s for s in mine + sink.spans if s["trace_id"] == TRACE_ID]
    by_id = {s["span_id"]: s for s in found}
    # One tree: every span's parent is in it, but the caller's, which is the root.
    assert all(s["parent_id"] in by_id or s["parent_id"] == CALLER_SPAN for s in found)
    [start] = [s for s in found if s["name"] == "start_orchestration steps_with_a_nap_and_a_child"]
    episodes = [s for s in found if s["name"] == "orchestration steps_with_a_nap_and_a_child"]
    assert episodes and all(s["parent_id"] == start["span_id"] for s in episodes)
    naps = [s for s in found if s["name"] == "activity nap"]
    assert naps and all(by_id[s["parent_id"]] in episodes for s in naps)
    assert max(s["attributes"]["perdura.attempt"] for s in naps) == 2  # Run again after the kill.
    children = [s for s in found if s["name"] == "orchestration echo_orchestrator"]
    assert children and all(by_id[s["parent_id"]] in episodes for s in children)


def test_failures_mark_their_spans_as_errors(spans):
    from opentelemetry.trace import StatusCode

    instance_id = services.start("failing_orchestrator", "no luck")
    drain_all()

    assert services.get(instance_id).runtime_status == "Failed"
    finished = {span.name: span for span in spans.get_finished_spans()}
    assert finished["activity fail"].status.status_code == StatusCode.ERROR
    assert "no luck" in finished["activity fail"].status.description
    assert finished["orchestration failing_orchestrator"].status.status_code == StatusCode.ERROR


def test_an_orchestration_an_entity_starts_is_traced_under_the_operation(spans):
    request = {"orchestrator": "echo_orchestrator", "input": 5, "instance_id": "started-by-courier"}
    services.start("call_entities", [["@courier@traced", "start", request]])
    drain_all()

    assert services.get("started-by-courier").runtime_status == "Completed"
    finished = spans.get_finished_spans()
    assert len({span.context.trace_id for span in finished}) == 1
    [operation] = [s for s in finished if s.name == "entity courier.start"]
    [start] = [s for s in finished if s.name == "start_orchestration echo_orchestrator"]
    assert start.parent.span_id == operation.context.span_id


def test_a_trace_not_sampled_records_nothing_down_the_line():
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        instance_id = services.start("three_steps_and_a_child", None)
        drain_all()
    finally:
        tracing.use(None)

    assert services.get(instance_id).runtime_status == "Completed"
    flags = int(Instance.objects.get(pk=instance_id).trace_parent[-2:], 16)
    assert not flags & 1  # The context is carried on, unsampled.
    assert exporter.get_finished_spans() == ()
