"""O1, the cost of watching: W1 and W2 (native) on fresh workers with metrics and traces off,
and on fresh workers with both on, in the same run, in the order off, on, on, off, so that a
database growing through the run or a machine warming up weighs on both alike; each figure
is the mean of its two rounds, with both rounds in its details. "On" counts every metric and
records every span, and exports the spans over OTLP/HTTP to a sink in this process that reads
and discards them: the whole export path, not a no-op. Target: on within 10% of off.

The bench's own process starts the instances, so it is switched with the workers.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench import w1_hello_sequence, w2_chain
from bench.measure import Figure
from bench.sizes import Sizes

WORKLOAD = "O1"
#: "On" keeps at least this share of "off"'s throughput (and at most 1/share of its time).
TARGET_SHARE = 0.9


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
    rounds: dict[str, list[list[Figure]]] = {"off": [], "on": []}
    try:
        for state in ("off", "on", "on", "off"):
            url = sink.url if state == "on" else None
            measured = with_workers(_environment(url), lambda url=url, state=state: _measured(sizes, state, url))
            progress(_summary(measured))
            rounds[state].append(measured)
    finally:
        _switch_this_process(None)
        settings.PERDURA_METRICS = counting
        sink.stop()
    off, on = _mean(rounds["off"]), _mean(rounds["on"])
    figures = []
    for before, after in zip(off, on, strict=True):
        if before.value and after.value:
            higher = before.better == "higher"
            share = after.value / before.value if higher else before.value / after.value
            after = dataclasses.replace(
                after,
                target=round(before.value * TARGET_SHARE if higher else before.value / TARGET_SHARE, 2),
                details={**after.details, "share_of_off": round(share, 3)},
            )
        figures += [before, after]
    figures[-1].details.update(otlp_exports=sink.requests, otlp_bytes=sink.bytes)
    return figures


def _mean(rounds: list[list[Figure]]) -> list[Figure]:
    """Each figure as the mean of its rounds (None if any round did not finish)."""
    means = []
    for figures in zip(*rounds, strict=True):
        values = [figure.value for figure in figures]
        value = None if None in values else round(sum(values) / len(values), 3)
        details = {"rounds": values, **{k: v for k, v in figures[0].details.items() if k != "ms_per_step_each"}}
        means.append(dataclasses.replace(figures[0], value=value, details=details))
    return means


def _environment(sink_url: str | None) -> dict[str, str]:
    if sink_url is None:
        return {"PERDURA_METRICS": "false", "OTEL_TRACES_EXPORTER": "none"}
    return {
        "PERDURA_METRICS": "true",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
        "OTEL_SERVICE_NAME": "perdura-bench",
    }


_provider = None


def _switch_this_process(sink_url: str | None) -> None:
    """Metrics and traces on (exporting to the sink) or off in this process; a provider set up
    before is flushed and shut down first."""
    global _provider
    from django.conf import settings

    from orchestrations.store import tracing

    if _provider is not None:
        _provider.force_flush()
        _provider.shutdown()
        _provider = None
    settings.PERDURA_METRICS = sink_url is not None
    if sink_url is None:
        tracing.use(None)
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    _provider = TracerProvider()
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{sink_url}/v1/traces")))
    tracing.use(_provider)


def _measured(sizes: Sizes, state: str, sink_url: str | None) -> list[Figure]:
    _switch_this_process(sink_url)
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
