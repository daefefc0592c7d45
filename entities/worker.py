"""Entity batches: claim entities with ready messages, run their operations one at a time,
and commit the new state, the consumed messages and everything sent in one transaction.

So every operation's effect on the state happens exactly once, even across crashes: a batch
that did not commit left no trace, and its messages are run again by the next claim.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from entities.engine import OrchestrationStart, run_operation
from entities.models import Entity
from functions.activities import PayloadTooLargeError, check_payload_size
from functions.registry import FunctionKind, UnknownFunctionError, registry
from functions.worker import tally
from orchestrations.engine import EntityId, FailureDetails
from orchestrations.engine import events as ev
from orchestrations.engine.events import EventType, HistoryEvent
from orchestrations.engine.ids import new_instance_id
from orchestrations.engine.status import TERMINAL_STATUSES
from orchestrations.models import Instance, Message, SetAsideMessage
from orchestrations.store import metrics, notices, tracing
from orchestrations.store.inbox import deliver, lock_entities, lock_instances
from orchestrations.store.leases import LeaseLostError, lease_free
from orchestrations.store.rows import InstanceRunningError, lock_for_start, schedule_new_instance
from orchestrations.worker.failures import (
    MAX_FAILED_ATTEMPTS,
    RETRY_SECONDS,
    count_failure,
    describe_error,
)

logger = logging.getLogger(__name__)

OPERATIONS = (EventType.ENTITY_OPERATION_CALLED, EventType.ENTITY_OPERATION_SIGNALED)


def claim_entities(worker_id: str, limit: int) -> list[str]:
    now = timezone.now()
    with transaction.atomic():
        entity_ids = list(
            Entity.objects.select_for_update(skip_locked=True)
            .filter(next_message_at__lte=now)
            .filter(lease_free(now))
            .order_by("next_message_at")
            .values_list("entity_id", flat=True)[:limit]
        )
        if entity_ids:
            Entity.objects.filter(pk__in=entity_ids).update(
                lease_owner=worker_id, lease_expires_at=now + timedelta(seconds=settings.PERDURA_LEASE_SECONDS)
            )
    return entity_ids


def process_entities(worker_id: str, limit: int) -> int:
    entity_ids = claim_entities(worker_id, limit)
    changed: list[str] = []
    for entity_id in entity_ids:
        try:
            run_entity_batch(entity_id, worker_id)
            changed.append(entity_id)
        except LeaseLostError:
            logger.warning("lost the lease on entity %s; another worker has it", entity_id)
            metrics.inc(metrics.LEASE_EXPIRIES, "entities")
        except Exception as error:
            logger.exception("batch of entity %s failed; retrying in %ss", entity_id, RETRY_SECONDS)
            attempts = count_failure(Entity, entity_id, worker_id, error)
            if attempts >= MAX_FAILED_ATTEMPTS:
                give_up(entity_id, worker_id, error, attempts)
                changed.append(entity_id)
    notices.publish(notices.ENTITY, changed)
    return len(entity_ids)


def run_entity_batch(entity_id: str, worker_id: str) -> None:
    now = timezone.now()
    entity = Entity.objects.get(pk=entity_id)
    if entity.lease_owner != worker_id:
        raise LeaseLostError(entity_id)
    batch = EntityBatch(entity, now)
    tally.count(tally.ENTITY_BATCH, batch.entity_id.name, now)
    batch.run(_ready_messages(entity, now))
    batch.commit(worker_id)


def _ready_messages(entity: Entity, now: datetime) -> list[Message]:
    inbox = Message.objects.filter(instance_id=entity.pk, visible_at__lte=now)
    if entity.lock_owner:
        # The others' messages wait for the lock; fetched, they could fill the batch and hide
        # the holder's (its calls, its unlock) forever.
        inbox = inbox.filter(sender=entity.lock_owner)
    return list(inbox.order_by("id")[: settings.PERDURA_ENTITY_BATCH_SIZE])


def give_up(entity_id: str, worker_id: str, error: BaseException, attempts: int) -> None:
    """Set aside the batch an entity failed ``attempts`` times in a row, with the error: its
    state stays as it was, each waiting caller is answered with the failure, and the entity
    goes on with the messages after it. A lock request set aside leaves its orchestration
    waiting for the lock, which the console shows with the set-aside message."""
    why = describe_error(error)
    logger.error("setting aside a batch of entity %s after %d failures: %s", entity_id, attempts, why)
    entity = Entity.objects.filter(pk=entity_id, lease_owner=worker_id).first()
    if entity is None:
        return  # Another worker has it now: it counts on from there.
    now = timezone.now()
    batch = EntityBatch(entity, now)
    batch.set_aside(_ready_messages(entity, now), why, attempts)
    batch.commit(worker_id)


class EntityBatch:
    def __init__(self, entity: Entity, now: datetime) -> None:
        self.entity = entity
        self.entity_id = EntityId.parse(entity.entity_id)
        self.now = now
        self.state = entity.state
        self.lock_owner = entity.lock_owner
        self.operations_run = 0
        self.consumed_ids: list[int] = []
        self.outgoing: list[Message] = []
        self.orchestrations: list[OrchestrationStart] = []
        self.set_aside_messages: list[SetAsideMessage] = []
        #: What ``failed_attempts`` and ``last_error`` become: a batch written is a success.
        self.last_error: str | None = None
        try:
            self.function = registry.get(FunctionKind.ENTITY, self.entity_id.name).func
            self.missing_function: UnknownFunctionError | None = None
        except UnknownFunctionError as error:
            self.function = None
            self.missing_function = error

    def run(self, messages: list[Message]) -> None:
        """Run the messages in order. While the entity is locked, messages from anyone but the
        lock holder wait; when the holder releases the lock, the waiting ones run next."""
        pending = messages
        while pending:
            waiting = []
            lock_released = False
            for message in pending:
                if self.lock_owner and message.sender != self.lock_owner:
                    waiting.append(message)
                    continue
                was_locked = bool(self.lock_owner)
                self._handle(message)
                self.consumed_ids.append(message.pk)
                lock_released = lock_released or (was_locked and not self.lock_owner)
            if not lock_released:
                return
            pending = waiting

    def set_aside(self, messages: list[Message], why: str, attempts: int) -> None:
        """Take ``messages`` out of the inbox unprocessed, keeping them with ``why``; answer each
        call among them with the failure."""
        self.consumed_ids = [message.pk for message in messages]
        self.set_aside_messages = [SetAsideMessage.of(message, why, self.now) for message in messages]
        self.last_error = why
        failure = FailureDetails(
            "OperationSetAside",
            f"the entity's batch failed {attempts} times in a row and was set aside: {why}",
        )
        for message in messages:
            if message.event_type == EventType.ENTITY_OPERATION_CALLED and message.sender:
                task_id = message.event.get("task_id")
                self._answer(message, ev.entity_operation_failed(self.now, task_id, failure))

    def _handle(self, message: Message) -> None:
        event = message.to_engine()
        if event.event_type in OPERATIONS:
            self._run_operation(message, event)
        elif event.event_type == EventType.ENTITY_LOCK_REQUESTED:
            self._grant_lock(message, event)
        elif event.event_type == EventType.ENTITY_UNLOCK_SENT:
            if message.sender == self.lock_owner:
                self.lock_owner = None
        else:
            logger.warning("entity %s ignores a %s message", self.entity_id, event.event_type)

    def _run_operation(self, message: Message, event: HistoryEvent) -> None:
        self.operations_run += 1
        trace_parent = None  # The operation's span, for the signals it sends.
        if self.function is None:
            result, failure, signals, starts = None, FailureDetails.from_exception(self.missing_function), [], []
        else:
            attributes = {tracing.INSTANCE_ID: str(self.entity_id), tracing.FUNCTION: self.entity_id.name}
            name = f"entity {self.entity_id.name}.{event.name}"
            with tracing.span(name, message.event.get("trace_parent"), attributes=attributes) as span:
                outcome = run_operation(self.function, self.entity_id, event.name, event.data, self.state)
                if span is not None:
                    span.set_attribute(tracing.STATUS, "Completed" if outcome.failure is None else "Failed")
                    trace_parent = tracing.current_parent()
            self.state = outcome.state
            result, failure, signals, starts = outcome.result, outcome.failure, outcome.signals, outcome.orchestrations
        sender = str(self.entity_id)
        for signal in signals:
            signalled = ev.entity_operation_signaled(self.now, -1, signal.entity_id, signal.operation, signal.input)
            visible_at = max(signal.scheduled_time or self.now, self.now)
            sent = Message.for_event(signal.entity_id, signalled, visible_at=visible_at, sender=sender)
            if trace_parent:
                sent.event["trace_parent"] = trace_parent
            self.outgoing.append(sent)
        self.orchestrations += [dataclasses.replace(start, trace_parent=trace_parent) for start in starts]
        if event.event_type == EventType.ENTITY_OPERATION_CALLED and message.sender:
            if failure is None:
                answer = ev.entity_operation_completed(self.now, event.task_id, result)
            else:
                answer = ev.entity_operation_failed(self.now, event.task_id, failure)
            self._answer(message, answer)
        elif failure is not None:
            logger.warning("signal %s to %s failed: %s", event.name, self.entity_id, failure.message)

    def _grant_lock(self, message: Message, event: HistoryEvent) -> None:
        requester = message.sender
        row = Instance.objects.filter(pk=requester).values_list("runtime_status", "execution_id").first()
        status, execution_id = row or (None, None)
        if status is None or status in TERMINAL_STATUSES:
            return  # The orchestration ended before its lock request got here: nobody to lock for.
        if event.details.get("sender_execution_id", execution_id) != execution_id:
            return  # It continued as new since: the execution that asked for the lock is gone.
        self.lock_owner = requester
        entity_ids = list(event.details.get("entity_ids", []))
        position = entity_ids.index(str(self.entity_id))
        if position + 1 < len(entity_ids):
            forwarded = dataclasses.replace(event, timestamp=self.now)
            self.outgoing.append(
                Message.for_event(entity_ids[position + 1], forwarded, visible_at=self.now, sender=requester)
            )
        else:
            self._answer(message, ev.entity_lock_granted(self.now, event.task_id))

    def _answer(self, message: Message, answer: HistoryEvent) -> None:
        execution_id = message.event.get("details", {}).get("sender_execution_id", "")
        self.outgoing.append(Message.for_event(message.sender, answer, execution_id=execution_id, visible_at=self.now))

    def commit(self, worker_id: str) -> None:
        entity_id = self.entity.pk
        with transaction.atomic():
            lock_instances(message.instance_id for message in self.outgoing)
            lock_entities([entity_id, *(message.instance_id for message in self.outgoing)])
            if not Entity.objects.filter(pk=entity_id, lease_owner=worker_id).exists():
                raise LeaseLostError(entity_id)
            if self.consumed_ids:
                deleted, _ = Message.objects.filter(pk__in=self.consumed_ids).delete()
                if deleted != len(self.consumed_ids):
                    raise LeaseLostError(entity_id)
            deliver(self.outgoing)
            SetAsideMessage.objects.bulk_create(self.set_aside_messages)
            for start in self.orchestrations:
                self._start_orchestration(start)
            fields = {"state": self.state, "lock_owner": self.lock_owner}
            if self.entity.failed_attempts or self.last_error:
                fields |= {"failed_attempts": 0, "last_error": self.last_error}
            if self.lock_owner != self.entity.lock_owner:
                fields["locked_at"] = self.now if self.lock_owner else None
            if self.operations_run:
                fields["last_operation_at"] = self.now
            Entity.objects.filter(pk=entity_id).update(
                **fields, next_message_at=self._next_message_at(), lease_owner=None, lease_expires_at=None
            )
        if self.set_aside_messages:
            metrics.inc(metrics.MESSAGES_SET_ASIDE, "entity", amount=len(self.set_aside_messages))

    def _start_orchestration(self, start: OrchestrationStart) -> None:
        """Start what an operation asked for (its name and id were checked when it asked), as
        a client's start would, in a savepoint: a start refused does not undo the batch."""
        try:
            registry.get(FunctionKind.ORCHESTRATOR, start.name)
            check_payload_size(start.input, f"the input of {start.name!r}")
            instance_id = start.instance_id or new_instance_id()
            with transaction.atomic(), tracing.under(start.trace_parent):
                replaced = lock_for_start(instance_id)
                schedule_new_instance(instance_id, start.name, start.input, replacing=replaced is not None)
        except (UnknownFunctionError, PayloadTooLargeError, InstanceRunningError) as error:
            logger.warning("entity %s could not start %s: %s", self.entity_id, start.name, error)

    def _next_message_at(self) -> datetime | None:
        inbox = Message.objects.filter(instance_id=self.entity.pk)
        if self.lock_owner:
            # While locked, only the lock holder's messages are worth waking up for.
            inbox = inbox.filter(sender=self.lock_owner)
        return inbox.aggregate(earliest=Min("visible_at"))["earliest"]
