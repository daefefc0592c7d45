"""Calling one trigger function: its trigger value and bindings in, its result, output
bindings, logs and failure out, as an unsaved ``Invocation`` row that the caller writes with
the rest of its batch (invocations are written in batches, never one statement per run).

The durable client binding needs the services layer, which sits above this one: the
functions app hands its factory in at start (``use_durable_client``), so nothing here
imports upward.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from django.utils import timezone

from functions.activities import PayloadTooLargeError, captured_logs, check_payload_size
from functions.bindings import Out, message_text
from functions.models import Invocation, new_invocation_id
from functions.registry import RegisteredFunction
from orchestrations.engine import FailureDetails
from orchestrations.engine.failures import storable
from orchestrations.engine.serialization import dumps
from orchestrations.store import metrics, tracing

#: Makes the durable client a function asked for (``@app.durable_client_input``).
_client_factory: Callable[[RegisteredFunction], Any] | None = None


def use_durable_client(factory: Callable[[RegisteredFunction], Any]) -> None:
    global _client_factory
    _client_factory = factory


@dataclass
class Invoked:
    """One finished run: the row to write, what the function returned, and the messages its
    queue output bindings hold (only when it succeeded)."""

    invocation: Invocation
    value: Any = None
    failure: FailureDetails | None = None
    #: Queue name -> message texts to put.
    outputs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.failure is None


def start_record(
    function_name: str, trigger: str, *, worker: str, input_text: str | None = None, invocation_id: str | None = None
) -> Invocation:
    return Invocation(
        invocation_id=invocation_id or new_invocation_id(),
        function_name=function_name,
        trigger=trigger,
        worker=worker[:200],
        started_at=timezone.now(),
        input=input_text,
    )


def call(
    function: RegisteredFunction,
    trigger_value: Any,
    *,
    trigger: str,
    worker: str,
    input_text: str | None = None,
    invocation_id: str | None = None,
) -> Invoked:
    """Run ``function`` with ``trigger_value`` bound to its trigger's parameter. Never raises
    for what the function does: its failure is in the result. In a span of its own when tracing:
    an HTTP function's under the caller's traceparent, if it sent one."""
    headers = getattr(trigger_value, "headers", None) if trigger == Invocation.Trigger.HTTP else None
    attributes = {tracing.FUNCTION: function.name, "perdura.trigger": trigger}
    with tracing.span(
        f"function {function.name}", headers=headers, server=headers is not None, attributes=attributes
    ) as span:
        invoked = _call(function, trigger_value, trigger, worker, input_text, invocation_id)
        if span is not None:
            span.set_attribute(tracing.STATUS, invoked.invocation.status)
            if invoked.failure is not None:
                tracing.failed(span, invoked.failure.message)
    return invoked


def _call(
    function: RegisteredFunction,
    trigger_value: Any,
    trigger: str,
    worker: str,
    input_text: str | None,
    invocation_id: str | None,
) -> Invoked:
    record = start_record(function.name, trigger, worker=worker, input_text=input_text, invocation_id=invocation_id)
    started = time.perf_counter()
    outputs: dict[str, Out[Any]] = {}
    with captured_logs() as logs:
        try:
            kwargs = _arguments(function, trigger_value, outputs)
            value = _run(function.func, kwargs)
            messages = _output_messages(function, outputs)
            failure = None
        except Exception as error:  # The function's failure is data: recorded, answered, retried.
            value, messages, failure = None, {}, FailureDetails.from_exception(error)
    record.ended_at = record.started_at + timedelta(seconds=time.perf_counter() - started)
    record.logs = logs.text()
    if failure is None:
        record.status = Invocation.Status.COMPLETED
    else:
        record.status = Invocation.Status.FAILED
        fail(record, failure)
    metrics.observe_invocation(record.function_name, trigger, record.status, time.perf_counter() - started)
    return Invoked(record, value, failure, messages)


def fail(record: Invocation, failure: FailureDetails) -> None:
    record.status = Invocation.Status.FAILED
    record.error_type = failure.error_type[: Invocation._meta.get_field("error_type").max_length]
    record.error_message = failure.message
    record.traceback = failure.stack_trace or ""


def record_result(record: Invocation, value: Any) -> None:
    """Keep a JSON rendering of what the function returned, when it has one that fits."""
    try:
        text = dumps(value, f"the result of function {record.function_name!r}")
        check_payload_size(text, "the result")
    except (TypeError, ValueError, PayloadTooLargeError):
        text = storable(repr(value)[:1000])
    record.output = text


def _arguments(function: RegisteredFunction, trigger_value: Any, outputs: dict[str, Out[Any]]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if function.trigger is not None:
        kwargs[function.trigger.arg_name] = trigger_value
    for output in function.outputs:
        outputs[output.arg_name] = kwargs[output.arg_name] = Out()
    if function.client is not None:
        if _client_factory is None:
            raise RuntimeError("no durable client is available in this process")
        kwargs[function.client.client_name] = _client_factory(function)
    return kwargs


def _run(func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    # async_to_sync, not asyncio.run: what the coroutine hands to sync_to_async (the durable
    # client's ORM calls) then runs back in this thread, the one holding the request's or the
    # batch's database connection. Under Daphne this thread is a request's only sync thread,
    # and a thread-sensitive sync_to_async from a loop of its own would wait on it forever.
    if inspect.iscoroutinefunction(func):
        return async_to_sync(func)(**kwargs)
    value = func(**kwargs)
    if inspect.isawaitable(value):
        return async_to_sync(_awaited)(value)
    return value


async def _awaited(value: Any) -> Any:
    return await value


def _output_messages(function: RegisteredFunction, outputs: dict[str, Out[Any]]) -> dict[str, list[str]]:
    """The texts the function's queue output bindings were set to; a list puts one message
    per item, as on Azure."""
    messages: dict[str, list[str]] = {}
    for output in function.outputs:
        bound = outputs[output.arg_name]
        if not bound.is_set or bound.get() is None:
            continue
        value = bound.get()
        items = value if isinstance(value, list) else [value]
        texts = []
        for item in items:
            text = message_text(item, f"the message set on {output.arg_name!r}")
            check_payload_size(text, f"the message set on {output.arg_name!r}")
            texts.append(text)
        messages.setdefault(output.queue_name, []).extend(texts)
    return messages
