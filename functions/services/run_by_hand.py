"""Running a function by hand, as Azure's ``POST /admin/functions/{name}`` does: the console's
"Run" button, the admin HTTP endpoint and ``durable invoke`` all come here.

As on Azure, the function runs directly with the input as its trigger value: a queue
function gets a ``QueueMessage`` whose body is the input's text (nothing is put on its
queue), a timer function a ``TimerRequest(past_due=False)`` (the input is not used), an
activity the input itself. HTTP functions are run by requests to their routes, not this way.

The run happens here, in the caller's process and thread, and is finished when ``run``
returns. Handing it to a worker would need a table of requested runs and a claim for them,
and would leave the caller polling for what it asked to see; running it here answers with the
outcome at once, and costs the caller no more than the function's own duration. Django's
ASGI handler runs each request's sync view in a thread of its own, so a slow function holds
up only the request that asked for it. The run is an invocation like any other (trigger
``manual``): its row, and the messages its queue output bindings set, are written in one
transaction with the audit entry.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from functions.activities import PayloadTooLargeError, check_payload_size, run_activity
from functions.bindings import QueueMessage, TimerRequest, message_text
from functions.models import Invocation, new_invocation_id
from functions.registry import FunctionKind, HttpTrigger, QueueTrigger, RegisteredFunction, TimerTrigger, registry
from functions.registry import UnknownFunctionError as _UnknownInRegistry
from functions.store.queues import put_messages
from functions.worker import invoke
from orchestrations.access import audit
from orchestrations.engine.serialization import SerializationError, dumps
from orchestrations.store import metrics, notices


class RunByHandError(Exception):
    """A run by hand refused; nothing was run or written. The message says why."""


class FunctionNotFoundError(RunByHandError, LookupError):
    """No function that can be run by hand has that name."""


class NotRunByHandError(RunByHandError, ValueError):
    """An HTTP function: it is run by a request to its route."""


class BadInputError(RunByHandError, ValueError):
    """An input that cannot be passed: not JSON-serialisable, or too large."""


class InputTooLargeError(BadInputError):
    """An input over PERDURA_MAX_PAYLOAD_BYTES."""


@dataclass(frozen=True)
class RunByHand:
    """A finished run by hand: its invocation row (saved) and the messages it put."""

    invocation: Invocation
    messages_put: int


def runnable(name: str) -> RegisteredFunction:
    """The function ``run`` would run under ``name``, or the error it would raise."""
    try:
        function = registry.find(name)
    except _UnknownInRegistry:
        raise FunctionNotFoundError(
            f"no timer, queue or activity function named {name!r} is registered "
            "(orchestrators are started, entities signalled, not run by hand)"
        ) from None
    if isinstance(function.trigger, HttpTrigger):
        raise NotRunByHandError(
            f"{name!r} is an HTTP function: call its route ({function.trigger.route.template!r}) instead"
        )
    return function


def run(name: str, input_value: Any, *, actor: audit.Actor) -> RunByHand:
    """Run function ``name`` now with ``input_value`` (a parsed JSON value) and record it."""
    function = runnable(name)
    try:
        input_text = dumps(input_value, "the input")
    except SerializationError as error:
        raise BadInputError(str(error)) from None
    try:
        check_payload_size(input_text, "the input")
    except PayloadTooLargeError as error:
        raise InputTooLargeError(str(error)) from None
    worker = f"{socket.gethostname()}:{os.getpid()}"
    if function.kind == FunctionKind.ACTIVITY:
        invoked = _run_activity(function, input_text, worker)
    else:
        invoked = invoke.call(
            function,
            _trigger_value(function, input_value),
            trigger=Invocation.Trigger.MANUAL,
            worker=worker,
            input_text=input_text,
        )
        if invoked.succeeded and invoked.value is not None:
            invoke.record_result(invoked.invocation, invoked.value)
    record = invoked.invocation
    with transaction.atomic():
        record.save()
        put = sum(len(put_messages(queue, bodies)) for queue, bodies in invoked.outputs.items())
        audit.record(
            actor,
            "invoke_function",
            "function",
            name,
            details={"invocation_id": record.invocation_id, "status": record.status, "messages_put": put},
        )
        notices.publish_on_commit(notices.INVOCATION, [name])
        if invoked.outputs:
            notices.publish_on_commit(notices.QUEUE, sorted(invoked.outputs))
    return RunByHand(record, put)


def _trigger_value(function: RegisteredFunction, input_value: Any) -> Any:
    trigger = function.trigger
    if isinstance(trigger, QueueTrigger):
        now = timezone.now()
        body = message_text(input_value if input_value is not None else "", "the input")
        return QueueMessage(
            id=new_invocation_id(),
            body=body,
            dequeue_count=1,
            insertion_time=now,
            expiration_time=now + timedelta(seconds=settings.PERDURA_QUEUE_MESSAGE_TTL_SECONDS),
            queue_name=trigger.queue_name,
        )
    if isinstance(trigger, TimerTrigger):
        return TimerRequest(past_due=False, schedule=trigger.schedule.expression)
    raise NotRunByHandError(f"{function.name!r} has no trigger that can be run by hand")


def _run_activity(function: RegisteredFunction, input_text: str | None, worker: str) -> invoke.Invoked:
    """An activity called as an orchestration would call it, outside any orchestration."""
    record = invoke.start_record(function.name, Invocation.Trigger.MANUAL, worker=worker, input_text=input_text)
    started = time.perf_counter()
    outcome = run_activity(function.name, input_text)
    record.ended_at = record.started_at + timedelta(seconds=time.perf_counter() - started)
    record.logs = outcome.logs
    if outcome.failure is None:
        record.status = Invocation.Status.COMPLETED
        record.output = outcome.result
    else:
        invoke.fail(record, outcome.failure)
    metrics.observe_invocation(record.function_name, record.trigger, record.status, time.perf_counter() - started)
    return invoke.Invoked(record, failure=outcome.failure)
