"""O1, the cost of watching: W1 and W2 (native) on fresh workers with metrics and traces off,
and on fresh workers with both on, in the same run. Off and "on, 1 trace in 10 recorded" run in
the order off, on, on, off, so that a database growing through the run or a machine warming
up weighs on both alike; each is the mean of its two rounds, both rounds in its details. Then
one round with every trace recorded, and one exporting every trace over OTLP/HTTP (see STATES).
Target for each "on": within 10% of off.

The bench's own process starts the instances, so it is switched with the workers.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench import w1_hello_sequence, w2_chain
from bench.measure import Figure
from bench.sizes import Sizes

WORKLOAD = "O1"
#: "On" keeps at least this share of "off"'s throughput (and at most 1/share of its time).
TARGET_SHARE = 0.9


class DiscardingSpanExporter:
    """Takes every batch of spans and keeps nothing: what recording spans costs, without the
    cost of the exporter chosen (``OTEL_TRACES_EXPORTER=perdura_bench_discard``, pyproject)."""

    exported = 0

    def export(self, spans) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        DiscardingSpanExporter.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class SpanSink:
    """An OTLP/HTTP endpoint that answers every export with success and keeps only counts."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                sink.requests += 1
                sink.bytes += len(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, name="span-sink", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def run(
    sizes: Sizes,
    *,
    with_workers: Callable[[dict[str, str], Callable[[], list[Figure]]], list[Figure]],
    progress: Callable[[str], None] = print,
) -> list[Figure]:
    """``with_workers(environment, measure)`` runs ``measure`` on fresh workers started with
    ``environment`` added to this process's."""
    from django.conf import settings

    counting = settings.PERDURA_METRICS
    sink = SpanSink()
    rounds: dict[str, list[list[Figure]]] = {state: [] for state in STATES}
    try:
        for state in (OFF, SAMPLED, SAMPLED, OFF, EVERY, OTLP):
            measured = with_workers(
                _environment(state, sink.url), lambda state=state: _measured(sizes, state, sink.url)
            )
            progress(_summary(measured))
            rounds[state].append(measured)
    finally:
        _switch_this_process(OFF, sink.url)
        settings.PERDURA_METRICS = counting
        sink.stop()
    means = {state: _mean(rounds[state]) for state in STATES}
    figures = []
    for off, *on in zip(*(means[state] for state in STATES), strict=True):
        figures.append(off)
        for figure in on:
            if off.value and figure.value:
                details = {**figure.details, "share_of_off": _share(off, figure)}
                figure = dataclasses.replace(figure, target=_target(off), details=details)
            figures.append(figure)
    figures[-1].details.update(otlp_exports=sink.requests, otlp_bytes=sink.bytes)
    return figures


#: The configurations: nothing counted or traced; metrics counted and traces sampled one in ten
#: (OpenTelemetry's parent-based ratio sampler: a trace is recorded whole or not at all), the
#: spans batched as in production and dropped by the exporter; the same with every trace
#: recorded; and every trace exported over OTLP/HTTP to a sink in this process that reads and
#: discards it (the whole export path).
OFF = "off"
SAMPLED = "on, 1 trace in 10 recorded"
EVERY = "on, every trace recorded"
OTLP = "on, every trace exported over OTLP"
STATES = (OFF, SAMPLED, EVERY, OTLP)
SAMPLE_RATIO = 0.1


def _target(off: Figure) -> float:
    assert off.value is not None
    return round(off.value * TARGET_SHARE if off.better == "higher" else off.value / TARGET_SHARE, 2)


def _share(off: Figure, figure: Figure) -> float:
    assert off.value and figure.value
    return round(figure.value / off.value if off.better == "higher" else off.value / figure.value, 3)


def _mean(rounds: list[list[Figure]]) -> list[Figure]:
    """Each figure as the mean of its rounds (None if any round did not finish)."""
    means = []
    for figures in zip(*rounds, strict=True):
        values = [figure.value for figure in figures]
        value = None if None in values else round(sum(values) / len(values), 3)
        details = {"rounds": values, **{k: v for k, v in figures[0].details.items() if k != "ms_per_step_each"}}
        means.append(dataclasses.replace(figures[0], value=value, details=details))
    return means


def _environment(state: str, sink_url: str) -> dict[str, str]:
    if state == OFF:
        return {"PERDURA_METRICS": "false", "OTEL_TRACES_EXPORTER": "none"}
    on = {
        "PERDURA_METRICS": "true",
        "OTEL_SERVICE_NAME": "perdura-bench",
        "OTEL_TRACES_EXPORTER": "perdura_bench_discard",
    }
    if state == SAMPLED:
        return {**on, "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": str(SAMPLE_RATIO)}
    if state == EVERY:
        return {**on, "OTEL_TRACES_SAMPLER": "parentbased_always_on"}
    return {**on, "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url}


_provider = None


def _switch_this_process(state: str, sink_url: str) -> None:
    """This process as the workers of ``state`` are; a provider set up before is flushed and
    shut down first."""
    global _provider
    from django.conf import settings

    from orchestrations.store import tracing

    if _provider is not None:
        _provider.force_flush()
        _provider.shutdown()
        _provider = None
    settings.PERDURA_METRICS = state != OFF
    if state == OFF:
        tracing.use(None)
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased

    exporter = OTLPSpanExporter(endpoint=f"{sink_url}/v1/traces") if state == OTLP else DiscardingSpanExporter()
    sampler = ParentBased(TraceIdRatioBased(SAMPLE_RATIO) if state == SAMPLED else ALWAYS_ON)
    _provider = TracerProvider(sampler=sampler)
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    tracing.use(_provider)


def _measured(sizes: Sizes, state: str, sink_url: str) -> list[Figure]:
    _switch_this_process(state, sink_url)
    label = "metrics and traces " + state
    [w1, *_] = w1_hello_sequence._run(
        w1_hello_sequence.ORCHESTRATOR,
        f"W1 HelloSequence5 x{sizes.w1_instances:,}, {label}",
        sizes.w1_instances,
        sizes.timeout,
        None,
    )
    [w2] = w2_chain._run(
        w2_chain.ORCHESTRATOR,
        f"W2 Chain{sizes.w2_steps}, {label}",
        sizes.w2_steps,
        sizes.w2_repetitions,
        sizes.timeout,
        None,
    )
    return [dataclasses.replace(figure, workload=WORKLOAD) for figure in (w1, w2)]


def _summary(figures: list[Figure]) -> str:
    return "; ".join(f"{figure.title}: {figure.value} {figure.metric}" for figure in figures)
