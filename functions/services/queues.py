"""Commands on durable queues shared by the HTTP API, the CLI and the console: put a message,
peek, list the queues, requeue poison messages, purge. Each checks what comes from outside
before writing anything, and every change is in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from functions.activities import PayloadTooLargeError, check_payload_size
from functions.bindings import message_text
from functions.models import QueuedMessage
from functions.registry import FunctionKind, QueueTrigger, check_queue_name, registry
from functions.store import queues as store
from orchestrations.access import audit
from orchestrations.access.audit import Actor

#: Azure's queue service peeks at most 32 messages; the console and the CLI may show more.
MAX_PEEK = 100


class QueueError(Exception):
    """A queue command refused; the message says why. Nothing was changed."""


class InvalidQueueInputError(QueueError, ValueError):
    """A malformed queue name, message or count (HTTP 400, exit status 2)."""


class UnknownQueueError(QueueError, LookupError):
    """No function reads or writes the queue and it holds no messages (HTTP 404, exit status 2)."""


class MessageTooLargeError(QueueError, ValueError):
    """A message over PERDURA_MAX_PAYLOAD_BYTES (HTTP 413, exit status 2)."""


class QueueNotAllowedError(QueueError, PermissionError):
    """The actor's role does not allow the command (HTTP 403)."""


@dataclass(frozen=True)
class QueueSummary:
    name: str
    #: Unexpired messages, and of them those visible now (the rest are being run or retried later).
    depth: int
    visible: int
    oldest_inserted_at: datetime | None
    #: Messages on ``<name>-poison`` (0 for a poison queue itself).
    poison_count: int
    #: The queue-trigger functions that read it and the functions whose output binding writes it.
    readers: tuple[str, ...]
    writers: tuple[str, ...]

    @property
    def is_poison(self) -> bool:
        return store.is_poison_queue(self.name)

    @property
    def poison_queue(self) -> str:
        return store.poison_queue_name(self.name)

    def oldest_age_seconds(self, now: datetime | None = None) -> float | None:
        if self.oldest_inserted_at is None:
            return None
        return max(0.0, ((now or timezone.now()) - self.oldest_inserted_at).total_seconds())


def declared_queues() -> dict[str, tuple[list[str], list[str]]]:
    """Each queue a registered function names: (functions reading it, functions writing it).
    A read queue's poison queue is declared with it."""
    declared: dict[str, tuple[list[str], list[str]]] = {}
    for function in registry.functions(FunctionKind.HTTP, FunctionKind.TIMER, FunctionKind.QUEUE):
        if isinstance(function.trigger, QueueTrigger):
            declared.setdefault(function.trigger.queue_name, ([], []))[0].append(function.name)
            declared.setdefault(store.poison_queue_name(function.trigger.queue_name), ([], []))
        for output in function.outputs:
            declared.setdefault(output.queue_name, ([], []))[1].append(function.name)
    return declared


def checked_queue(name: Any) -> str:
    """A known queue's name: valid, and named by a function or holding messages."""
    try:
        queue = check_queue_name(name)
    except ValueError as error:
        raise InvalidQueueInputError(str(error)) from None
    if queue not in declared_queues() and not store.holds_messages(queue):
        raise UnknownQueueError(
            f"there is no queue {queue!r}: no registered function reads or writes it and it holds no messages"
        )
    return queue


def message_body(value: Any) -> str:
    """The text stored for a message: a str as it is, any other JSON value as JSON."""
    try:
        body = message_text(value, "the message")
    except ValueError as error:
        raise InvalidQueueInputError(str(error)) from None
    if not body:
        raise InvalidQueueInputError("the message is empty")
    try:
        check_payload_size(body, "the message")
    except PayloadTooLargeError as error:
        raise MessageTooLargeError(str(error)) from None
    return body


@transaction.atomic
def put(queue_name: Any, value: Any, *, actor: Actor | None) -> QueuedMessage:
    """Put one message (text, or any JSON value) on a known queue."""
    queue = checked_queue(queue_name)
    body = message_body(value)
    [message] = store.put_messages(queue, [body])
    audit.record(
        actor,
        "put_queue_message",
        "queue",
        queue,
        details={"message_id": message.message_id, "bytes": len(body.encode())},
    )
    return message


def peek(queue_name: Any, count: int = 1) -> list[QueuedMessage]:
    """The first ``count`` messages of a known queue, without dequeuing them."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PEEK:
        raise InvalidQueueInputError(f"the number of messages to peek is a whole number from 1 to {MAX_PEEK}")
    return store.peek(checked_queue(queue_name), count)


def list_queues(now: datetime | None = None) -> list[QueueSummary]:
    """Every queue a function names or that holds messages, by name."""
    now = now or timezone.now()
    declared = declared_queues()
    figures = store.queue_figures(now)
    summaries = []
    for name in sorted(set(declared) | set(figures)):
        readers, writers = declared.get(name, ([], []))
        found = figures.get(name)
        poison = None if store.is_poison_queue(name) else figures.get(store.poison_queue_name(name))
        summaries.append(
            QueueSummary(
                name=name,
                depth=found.depth if found else 0,
                visible=found.visible if found else 0,
                oldest_inserted_at=found.oldest_inserted_at if found else None,
                poison_count=poison.depth if poison else 0,
                readers=tuple(sorted(readers)),
                writers=tuple(sorted(writers)),
            )
        )
    return summaries


def get_summary(queue_name: Any) -> QueueSummary:
    queue = checked_queue(queue_name)
    return next(summary for summary in list_queues() if summary.name == queue)


@transaction.atomic
def requeue_poison(queue_name: Any, *, actor: Actor | None, reason: str | None = None) -> int:
    """Move every message of ``<queue>-poison`` back to ``<queue>``, to be delivered afresh."""
    queue = checked_queue(queue_name)
    if store.is_poison_queue(queue):
        raise InvalidQueueInputError(f"{queue!r} is a poison queue: requeue from the queue it belongs to")
    _require(actor, "put_queue_message", "requeue poison messages")
    poison = store.poison_queue_name(queue)
    moved = store.requeue(poison, queue)
    audit.record(
        actor, "requeue_poison_messages", "queue", queue, reason=reason, details={"from": poison, "messages": moved}
    )
    return moved


@transaction.atomic
def purge(queue_name: Any, *, actor: Actor | None, reason: str | None = None) -> int:
    """Delete every message of a known queue (admins only)."""
    queue = checked_queue(queue_name)
    _require(actor, "purge_queue", "purge queues")
    deleted = store.purge(queue)
    audit.record(actor, "purge_queue", "queue", queue, reason=reason, details={"messages": deleted})
    return deleted


def _require(actor: Actor | None, codename: str, what: str) -> None:
    if actor is not None and not actor.may(codename):
        raise QueueNotAllowedError(f"your role does not allow you to {what}")
