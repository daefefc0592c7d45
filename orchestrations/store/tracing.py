"""OpenTelemetry traces: one trace from the request that started an orchestration through every
episode, activity, sub-orchestration and entity operation it led to, however many workers,
restarts and hours that takes.

Off unless configured with the standard variables (``OTEL_TRACES_EXPORTER``, or an OTLP endpoint
in ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) and the ``otel``
extra is installed; a tracer provider set up by the process itself (``opentelemetry-instrument``,
say) is used as it is. Off, every hook here is one test of a module global.

The context travels in the rows that carry the work, as a W3C ``traceparent``: an instance's
row holds the span that started it (a client's start, or the parent's episode for a
sub-orchestration), every episode of the instance is a child of it; a work item holds the
episode that scheduled it, and its runs are children of that episode; a message to an entity
holds the episode that sent it. So a trace survives a worker's death: the next worker reads
the same rows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger("perdura.tracing")

#: The tracer, once tracing is on; None while it is off.
_tracer: Any = None
_propagator: Any = None
_provider: Any = None

#: Span attribute names.
INSTANCE_ID = "perdura.instance_id"
FUNCTION = "perdura.function"
ATTEMPT = "perdura.attempt"
STATUS = "perdura.status"


def is_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard variables ask for traces to be exported."""
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        exporter or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure() -> bool:
    """Turn tracing on if the environment asks for it; whether it is on. Called once per process
    when Django starts."""
    if not is_configured():
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        logger.warning("OTEL_* asks for traces, but the otel extra is not installed: pip install 'perdura[otel]'")
        return False
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # Nobody set one up: this process does.
        provider = TracerProvider(
            resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "perdura")})
        )
        exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
        if exporter_name == "console":
            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    use(provider)
    return True


def use(provider: Any) -> None:
    """Trace with ``provider`` (tests give one with an in-memory exporter); None turns it off."""
    global _tracer, _propagator, _provider
    if provider is None:
        _tracer = _propagator = _provider = None
        return
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _provider = provider
    _tracer = provider.get_tracer("perdura")
    _propagator = TraceContextTextMapPropagator()


def flush(timeout_millis: int = 2000) -> None:
    """Export the spans still waiting (a process about to end)."""
    force_flush = getattr(_provider, "force_flush", None)
    if force_flush is not None:
        force_flush(timeout_millis)


@contextmanager
def under(parent: str | None) -> Iterator[None]:
    """Make ``parent`` (a ``traceparent`` kept in a row) the current span for the block,
    without a span of its own: what starts in the block is traced under it."""
    if _tracer is None or not parent:
        yield
        return
    from opentelemetry import context as otel_context

    token = otel_context.attach(_propagator.extract({"traceparent": parent}))
    try:
        yield
    finally:
        otel_context.detach(token)


def failed(span: Any, description: str) -> None:
    """Mark ``span`` (from ``span()``; None when not tracing) as failed."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_status(Status(StatusCode.ERROR, description))


def enabled() -> bool:
    return _tracer is not None


def current_parent() -> str | None:
    """The current span as a ``traceparent`` to keep in a row; None when not tracing."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def span(
    name: str,
    parent: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    server: bool = False,
    attributes: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """A span for the work in the block, the current one meanwhile. Its parent: ``parent`` (a
    ``traceparent`` kept in a row), else one in the request's ``headers``, else the current
    span. Yields the span (to add attributes), or None when not tracing."""
    if _tracer is None:
        yield None
        return
    from opentelemetry import trace

    context = None
    if parent:
        context = _propagator.extract({"traceparent": parent})
    elif headers is not None and not trace.get_current_span().get_span_context().is_valid:
        context = _propagator.extract({key.lower(): value for key, value in headers.items()})
    kind = trace.SpanKind.SERVER if server else trace.SpanKind.INTERNAL
    with _tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes or {}) as current:
        yield current
