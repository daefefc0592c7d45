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

import contextvars
import functools
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("perdura.tracing")

#: The tracer, once tracing is on; None while it is off.
_tracer: Any = None
_propagator: Any = None
_provider: Any = None
#: OpenTelemetry's modules, once tracing is on (imported only then).
_trace: Any = None
_otel_context: Any = None
_parent_based = False

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
        provider.add_span_processor(BatchSpanProcessor(_exporter(exporter_name, ConsoleSpanExporter)))
        trace.set_tracer_provider(provider)
    use(provider)
    return True


def _exporter(name: str, console: Any) -> Any:
    """The exporter ``OTEL_TRACES_EXPORTER`` names: ``otlp`` (over HTTP), ``console``, or any
    other installed under that name in the ``opentelemetry_traces_exporter`` entry points, as
    OpenTelemetry's own auto-configuration finds exporters."""
    if name == "console":
        return console()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    from importlib.metadata import entry_points

    found = entry_points(group="opentelemetry_traces_exporter", name=name)
    if not found:
        raise ImproperlyConfigured(f"OTEL_TRACES_EXPORTER names {name!r}, which no installed package provides")
    return next(iter(found)).load()()


def use(provider: Any) -> None:
    """Trace with ``provider`` (tests give one with an in-memory exporter); None turns it off."""
    global _tracer, _propagator, _provider, _trace, _otel_context, _parent_based
    if provider is None:
        _tracer = _propagator = _provider = None
        return
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.sdk.trace.sampling import ParentBased
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _trace, _otel_context = trace, otel_context
    # Under a parent-based sampler (OpenTelemetry's default), a span whose parent was not
    # sampled is not recorded either: such spans are then skipped before the SDK is asked.
    _parent_based = isinstance(getattr(provider, "sampler", None), ParentBased)
    _provider = provider
    _tracer = provider.get_tracer("perdura")
    _propagator = TraceContextTextMapPropagator()
    _context_of.cache_clear()


def flush(timeout_millis: int = 2000) -> None:
    """Export the spans still waiting (a process about to end)."""
    force_flush = getattr(_provider, "force_flush", None)
    if force_flush is not None:
        force_flush(timeout_millis)


@contextmanager
def under(parent: str | None) -> Iterator[None]:
    """Make ``parent`` (a ``traceparent`` kept in a row) the parent of what starts in the block,
    without a span of its own."""
    if _tracer is None or not parent:
        yield
        return
    token = _current.set(parent)
    try:
        yield
    finally:
        _current.reset(token)


def failed(span: Any, description: str) -> None:
    """Mark ``span`` (from ``span()``; None when not tracing) as failed."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_status(Status(StatusCode.ERROR, description))


def enabled() -> bool:
    return _tracer is not None


#: The innermost of Perdura's own spans (or the row context ``under`` set), as a traceparent:
#: what new rows carry on. Kept apart from OpenTelemetry's context, which an episode's span
#: need not enter (orchestrator code does no I/O of its own to trace), to save its cost.
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("perdura_trace_parent", default=None)


def current_parent() -> str | None:
    """The current span as a ``traceparent`` to keep in a row; None when not tracing."""
    if _tracer is None:
        return None
    ours = _current.get()
    if ours is not None:
        return ours
    context = _trace.get_current_span().get_span_context()
    return _traceparent(context) if context.is_valid else None


def _sampled(traceparent: str) -> bool:
    """Whether a ``traceparent``'s flags say its span was sampled (the low bit)."""
    try:
        return bool(int(traceparent[-2:], 16) & 1)
    except ValueError:
        return True


def _traceparent(context: Any) -> str:
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


@functools.lru_cache(maxsize=4096)
def _context_of(parent: str) -> Any:
    """OpenTelemetry's context with the span a ``traceparent`` names as parent (None if it
    names none). Parsed here, and kept: the episodes of an instance share one parent, and the
    propagator's general parsing costs more, on every span."""
    trace = _trace
    try:
        version, trace_id, span_id, flags = parent.split("-")
        context = trace.SpanContext(
            int(trace_id, 16), int(span_id, 16), is_remote=True, trace_flags=trace.TraceFlags(int(flags, 16))
        )
    except ValueError:
        return None
    if version != "00" or not context.is_valid:
        return None
    return trace.set_span_in_context(trace.NonRecordingSpan(context))


@contextmanager
def span(
    name: str,
    parent: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    server: bool = False,
    attributes: dict[str, Any] | None = None,
    enter: bool = True,
) -> Iterator[Any]:
    """A span for the work in the block. Its parent: ``parent`` (a ``traceparent`` kept in a
    row), else one in the request's ``headers``, else the current span. Yields the span (to add
    attributes), or None when not tracing or not sampled. Rows written in the block carry it
    on; with ``enter``, it is OpenTelemetry's current span too, so that spans user code makes
    (an instrumented HTTP call in an activity, say) are its children."""
    if _tracer is None:
        yield None
        return
    trace = _trace
    if parent is None and headers is None:
        parent = _current.get()
    if parent is not None and _parent_based and not _sampled(parent):
        # Not sampled: neither is this span. Its work carries the parent on, unsampled too.
        token = _current.set(parent)
        try:
            yield None
        finally:
            _current.reset(token)
        return
    context = None
    if parent is not None:
        context = _context_of(parent)
    elif headers is not None and not trace.get_current_span().get_span_context().is_valid:
        context = _propagator.extract({key.lower(): value for key, value in headers.items()})
    kind = trace.SpanKind.SERVER if server else trace.SpanKind.INTERNAL
    current = _tracer.start_span(name, context=context, kind=kind, attributes=attributes)
    ours_token = _current.set(_traceparent(current.get_span_context()))
    token = _otel_context.attach(trace.set_span_in_context(current)) if enter else None
    try:
        yield current
    except BaseException as error:
        current.record_exception(error)
        current.set_status(trace.Status(trace.StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        raise
    finally:
        if token is not None:
            _otel_context.detach(token)
        _current.reset(ours_token)
        current.end()
