"""The queue consumer: claim a batch of visible messages for the registered queue-trigger
functions, run each message's function, and settle the whole batch in one transaction.

Delivery is at least once. A message is deleted only when its function succeeded, in the
transaction that records its invocation and puts its output-binding messages; a failed one is
visible again at once, and after ``PERDURA_QUEUE_MAX_DEQUEUE_COUNT`` deliveries moves to
``<queue>-poison``. A worker that dies holding messages settles nothing: they come back when
their visibility timeout passes, and another worker takes them.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from functions.bindings import QueueMessage
from functions.models import Invocation, QueuedMessage
from functions.registry import FunctionKind, QueueTrigger, RegisteredFunction, registry
from functions.store import queues as store
from functions.worker.concurrency import slots
from functions.worker.invoke import Invoked, call, record_result
from orchestrations.store import notices
from orchestrations.store.bulk import insert_rows


def consumers() -> dict[str, list[RegisteredFunction]]:
    """The enabled queue-trigger functions of each queue, by name. Several functions on one
    queue compete for its messages, as on Azure: each message goes to one of them."""
    found: dict[str, list[RegisteredFunction]] = defaultdict(list)
    for function in registry.functions(FunctionKind.QUEUE):
        if isinstance(function.trigger, QueueTrigger) and not function.is_disabled:
            found[function.trigger.queue_name].append(function)
    return dict(found)


def claim_limits(queue_functions: dict[str, list[RegisteredFunction]], limit: int) -> list[tuple[list[str], int]]:
    """The claims to make for a batch of ``limit``: one for every queue whose functions have no
    ``max_concurrency``, and one per limited queue of at most that many messages, so this
    worker never claims more of such a function's messages than its limit; across workers,
    the concurrency slots hold the limit (``process_messages``)."""
    unlimited = sorted(
        queue for queue, functions in queue_functions.items() if all(f.max_concurrency is None for f in functions)
    )
    claims = [(unlimited, limit)] if unlimited else []
    for queue, functions in sorted(queue_functions.items()):
        if queue not in unlimited:
            per_batch = sum(f.max_concurrency or limit for f in functions)
            claims.append(([queue], min(limit, per_batch)))
    return claims


def process_messages(worker_id: str, limit: int) -> int:
    """Claim a batch of messages, run them, settle them; how many were claimed."""
    queue_functions = consumers()
    total = 0
    for queues, claim_limit in claim_limits(queue_functions, limit):
        limited = [f for queue in queues for f in queue_functions[queue] if f.max_concurrency is not None]
        with ExitStack() as held:
            # This worker runs its batch one message at a time, so one slot of each limited
            # function is all it needs. Without one, the messages stay where they are (no
            # dequeue is counted) and the sweeper wakes a worker for them again.
            if not all(held.enter_context(slots(function, wanted=1, holder=worker_id)).granted for function in limited):
                continue
            total += _claim_and_run(queues, claim_limit, queue_functions, worker_id)
    return total


def _claim_and_run(
    queues: list[str], claim_limit: int, queue_functions: dict[str, list[RegisteredFunction]], worker_id: str
) -> int:
    with transaction.atomic():
        claim = store.claim_messages(queues, claim_limit, worker_id)
    if claim.messages:
        runs = [
            _run(message, queue_functions[message.queue], claim.pop_receipt, worker_id) for message in claim.messages
        ]
        settle(claim, runs)
    return len(claim.messages)


@dataclass
class MessageRun:
    message: QueuedMessage
    #: None when the claim ran out before the function started: the message is left alone.
    invoked: Invoked | None


def _run(message: QueuedMessage, functions: list[RegisteredFunction], pop_receipt: str, worker_id: str) -> MessageRun:
    if timezone.now() >= message.visible_at:
        # The batch ran past this message's visibility timeout: another worker may hold it now.
        return MessageRun(message, None)
    function = functions[message.pk % len(functions)]
    invoked = call(
        function,
        sdk_message(message, pop_receipt),
        trigger=Invocation.Trigger.QUEUE,
        worker=worker_id,
        input_text=message.body,
    )
    if invoked.succeeded and invoked.value is not None:
        record_result(invoked.invocation, invoked.value)
    return MessageRun(message, invoked)


def sdk_message(message: QueuedMessage, pop_receipt: str) -> QueueMessage:
    return QueueMessage(
        id=message.message_id,
        body=message.body,
        pop_receipt=pop_receipt,
        dequeue_count=message.dequeue_count,
        insertion_time=message.inserted_at,
        expiration_time=message.expires_at,
        time_next_visible=message.visible_at,
        queue_name=message.queue,
    )


def settle(claim: store.Claim, runs: list[MessageRun]) -> None:
    """In one transaction: record the invocations, delete the messages whose function
    succeeded and put their output messages, give back or poison the failed ones."""
    now = timezone.now()
    ran = [run for run in runs if run.invoked is not None]
    succeeded = [run for run in ran if run.invoked.succeeded]
    failed = [run for run in ran if not run.invoked.succeeded]
    touched = {run.message.queue for run in ran}
    with transaction.atomic():
        insert_rows(Invocation, [run.invoked.invocation for run in ran])
        deleted = store.delete_claimed(claim.pop_receipt, [run.message.pk for run in succeeded])
        outputs: dict[str, list[str]] = defaultdict(list)
        for run in succeeded:
            # A message another worker took over meanwhile is that worker's to finish: its
            # outputs would be put twice.
            if run.message.pk in deleted:
                for queue, texts in run.invoked.outputs.items():
                    outputs[queue].extend(texts)
        for queue, texts in outputs.items():
            store.put_messages(queue, texts, now=now)
        touched.update(_give_back_or_poison(claim.pop_receipt, failed, now))
        notices.publish_on_commit(notices.INVOCATION, sorted({run.invoked.invocation.function_name for run in ran}))
        notices.publish_on_commit(notices.QUEUE, sorted(touched | set(outputs)))


def _give_back_or_poison(pop_receipt: str, failed: list[MessageRun], now: datetime) -> set[str]:
    """Settle the failed messages; the poison queues they moved to."""
    poisoned, returned = [], []
    for run in failed:
        failure = run.invoked.failure
        run.message.last_error = f"{failure.error_type}: {failure.message}" if failure else ""
        if run.message.dequeue_count >= settings.PERDURA_QUEUE_MAX_DEQUEUE_COUNT:
            poisoned.append(run.message)
        else:
            returned.append(run.message)
    store.give_back(pop_receipt, returned, now=now)
    return {row.queue for row in store.move_to_poison(pop_receipt, poisoned, now=now)}


def messages_ready(now: datetime) -> bool:
    """Whether a worker has messages to run or expired messages to delete (for the sweeper)."""
    return store.ready_exists(sorted(consumers()), now)
