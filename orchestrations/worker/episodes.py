"""Orchestration episodes: claim instances with ready messages, replay, checkpoint.

One episode is one transaction: the consumed inbox messages are deleted, the new history is
appended, outgoing messages and activity work items are written and the instance row is
updated, or none of it happens. The instance's lease is checked inside that transaction, so a
worker that lost its lease (it stalled past the expiry and another took over) commits nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from functions.activities import PayloadTooLargeError, check_payload_size, is_known_activity
from functions.registry import FunctionKind, UnknownFunctionError, registry
from functions.worker import tally
from orchestrations import engine
from orchestrations.engine import FailureDetails, OrchestrationStatus
from orchestrations.engine import actions as act
from orchestrations.engine import events as ev
from orchestrations.engine.entities import held_locks, is_entity_address
from orchestrations.engine.events import CONTROL_EVENTS, EventType
from orchestrations.engine.executor import Replay
from orchestrations.engine.serialization import loads
from orchestrations.models import Approval, HistoryRow, Instance, Message, SetAsideMessage, WorkItem
from orchestrations.store import metrics, notices, tracing
from orchestrations.store.bulk import (
    db_time,
    delete_statement,
    fetch_rows,
    in_keys,
    key_params,
    keys_count,
    select_rows,
)
from orchestrations.store.checkpoint import episode_targets, write_episodes
from orchestrations.store.claims import claim_instances
from orchestrations.store.inbox import LockedRow
from orchestrations.store.leases import LeaseLostError
from orchestrations.store.rows import new_instance_row
from orchestrations.worker.failures import (
    MAX_FAILED_ATTEMPTS,
    RETRY_SECONDS,
    count_failure,
    describe_error,
)
from orchestrations.worker.replay_cache import CachedReplay, replay_cache

logger = logging.getLogger(__name__)

#: At most this many inbox messages are fed to one episode; the rest wait for the next.
MAX_MESSAGES_PER_EPISODE = 1000


def process_orchestrations(worker_id: str, limit: int) -> int:
    """Claim up to ``limit`` instances with ready messages, run an episode of each and
    checkpoint them together."""
    instance_ids = claim_instances(worker_id, limit)
    run_claimed(instance_ids, worker_id)
    return len(instance_ids)


def run_claimed(instance_ids: list[str], worker_id: str) -> None:
    """Run an episode of each of these instances leased to this worker and checkpoint them
    together."""
    if not instance_ids:
        return
    plans = plan_episodes(instance_ids, worker_id)
    try:
        commit_episodes(plans, worker_id)
    except Exception:
        # One bad episode (a lost lease, a conflict) must not hold the others back: commit
        # them one by one, each in its own transaction.
        logger.info("batch checkpoint of %d episodes failed; committing them one by one", len(plans), exc_info=True)
        committed = []
        for plan in plans:
            # The failed attempt changed the plans' objects (lengths, keys): plan again from
            # the rows as committed, with a fresh replay.
            for fresh in plan_episodes([plan.instance.pk], worker_id):
                if _commit_alone(fresh, worker_id):
                    committed.append(fresh)
        plans = committed
    changed = [plan.instance.pk for plan in plans] + [child.pk for plan in plans for child in plan.children]
    notices.publish(notices.INSTANCE, changed)


def retry_later(instance_id: str, worker_id: str, error: BaseException) -> None:
    """Retry a failing instance later; give it up once its episodes failed MAX_FAILED_ATTEMPTS
    times in a row."""
    attempts = count_failure(Instance, instance_id, worker_id, error)
    if attempts >= MAX_FAILED_ATTEMPTS:
        give_up(instance_id, worker_id, error, attempts)


def give_up(instance_id: str, worker_id: str, error: BaseException, attempts: int) -> None:
    """Fail an instance whose episodes failed ``attempts`` times in a row, with the reason, and
    set aside the messages the episode could not take: they are kept, with the error, where the
    console shows them, and the parent (if any) hears of the failure as of any other. If even
    that cannot be written, the row alone is marked Failed."""
    why = describe_error(error)
    failure = FailureDetails(
        "CheckpointFailed",
        f"the instance's episode failed {attempts} times in a row and was given up: {why}",
    )
    logger.error("giving up on %s after %d failed episodes: %s", instance_id, attempts, why)
    try:
        instance = Instance.objects.get(pk=instance_id, lease_owner=worker_id)
        now = timezone.now()
        plan = EpisodePlan(instance, now)
        inbox = Message.objects.filter(instance_id=instance_id, visible_at__lte=now).order_by("id")
        plan.set_aside(list(inbox[:MAX_MESSAGES_PER_EPISODE]), why, failure)
        commit_episodes([plan], worker_id)
        notices.publish(notices.INSTANCE, [instance_id])
        return
    except Instance.DoesNotExist:
        return  # Another worker has it now: it counts on from there.
    except Exception:
        logger.exception("could not write the failure of %s; marking its row Failed", instance_id)
    _mark_failed(instance_id, worker_id, failure, why)
    notices.publish(notices.INSTANCE, [instance_id])


def _mark_failed(instance_id: str, worker_id: str, failure: FailureDetails, why: str) -> None:
    """The least that ends the loop: the row Failed and its ready messages set aside, without
    history (whose writing failed); or, if even the messages cannot be moved, the row alone."""
    now = timezone.now()
    ended = {
        "runtime_status": OrchestrationStatus.FAILED,
        "failure": failure.to_dict(),
        "completed_at": now,
        "updated_at": now,
        "next_message_at": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "failed_attempts": 0,
        "last_error": why,
    }
    try:
        with transaction.atomic():
            inbox = list(Message.objects.filter(instance_id=instance_id, visible_at__lte=now).order_by("id"))
            SetAsideMessage.objects.bulk_create([SetAsideMessage.of(message, why, now) for message in inbox])
            Message.objects.filter(pk__in=[message.pk for message in inbox]).delete()
            name = Instance.objects.filter(pk=instance_id).values_list("name", flat=True).first()
            marked = Instance.objects.filter(pk=instance_id, lease_owner=worker_id).update(**ended)
            if not marked:  # Another worker has it now: its messages are not this one's to move.
                transaction.set_rollback(True)
        if marked:
            metrics.inc(metrics.MESSAGES_SET_ASIDE, "orchestration", amount=len(inbox))
            label = metrics.function_label(FunctionKind.ORCHESTRATOR, name or "")
            metrics.inc(metrics.ORCHESTRATIONS_FINISHED, label, "Failed")
    except DatabaseError:
        logger.exception("could not set aside the messages of %s", instance_id)
        Instance.objects.filter(pk=instance_id, lease_owner=worker_id).update(**ended)


def plan_episodes(instance_ids: list[str], worker_id: str) -> list[EpisodePlan]:
    now = timezone.now()
    instances = {instance.pk: instance for instance in fetch_rows(Instance, instance_ids)}
    inboxes: dict[str, list[Message]] = {instance_id: [] for instance_id in instance_ids}
    ready = f"instance_id {in_keys(keys_count(instance_ids))} AND visible_at <= %s"
    for message in select_rows(Message, ready, [*key_params(instance_ids), db_time(now)], order_by="id"):
        inbox = inboxes[message.instance_id]
        if len(inbox) < MAX_MESSAGES_PER_EPISODE:
            inbox.append(message)
    suspended = [pk for pk, instance in instances.items() if instance.status == OrchestrationStatus.SUSPENDED]
    if suspended:
        # A suspended instance's inbox can fill up with events it may not take yet; its resume
        # or terminate must be read all the same, wherever it stands in line.
        control = Message.objects.filter(instance_id__in=suspended, visible_at__lte=now, event_type__in=CONTROL_EVENTS)
        for message in control.order_by("id")[:MAX_MESSAGES_PER_EPISODE]:
            inbox = inboxes[message.instance_id]
            if all(seen.pk != message.pk for seen in inbox):
                inbox.append(message)
                inbox.sort(key=lambda queued: queued.pk)
    replays = replay_cache.take_many(instance for instance in instances.values() if instance.lease_owner == worker_id)
    plans = []
    for instance_id in instance_ids:
        instance = instances.get(instance_id)
        if instance is None or instance.lease_owner != worker_id:
            logger.warning("lost the lease on %s; another worker has it", instance_id)
            if instance is not None:  # (None: purged meanwhile.)
                metrics.inc(metrics.LEASE_EXPIRIES, "orchestrations")
            continue
        plan = EpisodePlan(instance, now, replays[instance_id])
        try:
            plan.consume(inboxes[instance_id])
        except Exception as error:
            logger.exception("episode of %s failed; retrying in %ss", instance_id, RETRY_SECONDS)
            retry_later(instance_id, worker_id, error)
            continue
        plans.append(plan)
    return plans


def _commit_alone(plan: EpisodePlan, worker_id: str) -> bool:
    """Commit one episode; False if it could not be."""
    instance_id = plan.instance.pk
    try:
        commit_episodes([plan], worker_id)
        return True
    except LeaseLostError:
        logger.warning("lost the lease on %s; another worker has it", instance_id)
        metrics.inc(metrics.LEASE_EXPIRIES, "orchestrations")
    except Exception as error:
        logger.exception("checkpoint of %s failed; retrying in %ss", instance_id, RETRY_SECONDS)
        retry_later(instance_id, worker_id, error)
    return False


class EpisodePlan:
    """What one episode will write, gathered before the transaction that writes it."""

    def __init__(
        self, instance: Instance, now: datetime, cached: CachedReplay | None = None, *, row_locked: bool = False
    ) -> None:
        self.instance = instance
        self.now = now
        tally.count(tally.EPISODE, instance.name, now)
        #: Whether ``instance`` was read under the lock of the transaction that will write it,
        #: so that its next wake-up (``next_message_at``) is known without looking again.
        self.row_locked = row_locked
        self.status = instance.status
        #: The status before this episode (the checkpoint writes the new one into ``instance``).
        self.status_before = instance.status
        #: How long the orchestrator code took (replay and new steps), for /metrics.
        self.replay_seconds: float | None = None
        self.fields: dict[str, Any] = {}
        self.consumed_ids: list[int] = []
        self.history: list[engine.HistoryEvent] = []
        #: Suspensions and resumptions, recorded after what the orchestrator did in this episode.
        self.control_history: list[engine.HistoryEvent] = []
        self.reset_history = False
        self.outgoing: list[Message] = []
        self.work_items: list[WorkItem] = []
        self.children: list[Instance] = []
        #: The ExecutionStarted message of each child, in the same order (it is in outgoing too).
        self.child_starts: list[Message] = []
        self._past = cached.history if cached is not None else None
        #: The live replay this episode continues (from the cache) or starts.
        self.replay: Replay | None = cached.replay if cached is not None else None
        self.approvals: list[Approval] = []
        self.set_aside_messages: list[SetAsideMessage] = []
        if instance.failed_attempts:
            # Whatever this episode writes, it is a success: the count starts again.
            self.fields.update(failed_attempts=0, last_error=None)

    # Deciding what the messages mean.

    def set_aside(self, messages: list[Message], error: str, failure: FailureDetails) -> None:
        """Take ``messages`` out of the inbox, unprocessed, keeping them with ``error``, and end
        the instance Failed with ``failure``."""
        self.consumed_ids = [message.pk for message in messages]
        self.set_aside_messages = [SetAsideMessage.of(message, error, self.now) for message in messages]
        self.fields.update(failed_attempts=0, last_error=error)
        if not self.instance.is_terminal:
            self._finish(engine.Completion(OrchestrationStatus.FAILED, failure=failure))

    def consume(self, messages: list[Message]) -> None:
        if self.instance.is_terminal:
            # Late answers and events for a finished instance have nobody to go to.
            self.consumed_ids = [message.pk for message in messages]
            return
        events: list[engine.HistoryEvent] = []
        held_back = False
        for message in messages:
            event = message.to_engine()
            if message.execution_id and message.execution_id != self.instance.execution_id:
                self.consumed_ids.append(message.pk)  # An answer to an earlier execution.
            elif event.event_type == EventType.EXECUTION_TERMINATED:
                self.consumed_ids = [m.pk for m in messages]
                self._terminate(event)
                return
            elif event.event_type == EventType.EXECUTION_SUSPENDED:
                self.consumed_ids.append(message.pk)
                if self.status != OrchestrationStatus.SUSPENDED:
                    self.control_history.append(ev.execution_suspended(self.now, event.data))
                    self._set_status(OrchestrationStatus.SUSPENDED)
            elif event.event_type == EventType.EXECUTION_RESUMED:
                self.consumed_ids.append(message.pk)
                if self.status == OrchestrationStatus.SUSPENDED:
                    self.control_history.append(ev.execution_resumed(self.now, event.data))
                    self._set_status(OrchestrationStatus.RUNNING)
            elif self.status != OrchestrationStatus.SUSPENDED and not held_back:
                self.consumed_ids.append(message.pk)
                events.append(event)
            else:
                # Kept for a later episode; every event after it waits too, so that the
                # orchestrator still gets them in the order they came.
                held_back = True
        if events:
            self._run_orchestrator(events)
        if not self.reset_history:
            self.history += self.control_history

    def take(self, answers: list[engine.HistoryEvent]) -> None:
        """Run the episode on answers handed over directly, not through the inbox: the caller
        has checked, under the row lock, that the instance runs the execution they answer, is
        not suspended and has no message waiting that should come first."""
        self._run_orchestrator(answers)

    def _run_orchestrator(self, new_events: list[engine.HistoryEvent]) -> None:
        """The episode, in a span of its own under the span that started the instance: what
        it schedules (activities, sub-orchestrations, entity messages) carries this span on."""
        attributes = {tracing.INSTANCE_ID: self.instance.pk, tracing.FUNCTION: self.instance.name}
        with tracing.span(
            f"orchestration {self.instance.name}", self.instance.trace_parent, attributes=attributes, enter=False
        ) as span:
            sent = len(self.outgoing)
            self._run_episode(new_events)
            if span is not None:
                span.set_attribute(tracing.STATUS, str(self.status))
                if self.status == OrchestrationStatus.FAILED:
                    tracing.failed(span, "the orchestration failed")
                parent = tracing.current_parent()
                for message in self.outgoing[sent:]:
                    if is_entity_address(message.instance_id):
                        message.event["trace_parent"] = parent

    def _run_episode(self, new_events: list[engine.HistoryEvent]) -> None:
        try:
            orchestrator = registry.get(FunctionKind.ORCHESTRATOR, self.instance.name).func
        except UnknownFunctionError as error:
            self.history += [ev.orchestrator_started(self.now), *new_events]
            self._finish(engine.Completion(OrchestrationStatus.FAILED, failure=FailureDetails.from_exception(error)))
            return
        new_events = [ev.orchestrator_started(self.now), *new_events]
        started = time.perf_counter()
        if self.replay is not None:
            result = self.replay.advance(new_events)
        else:
            self.replay = Replay(orchestrator, self.instance.pk, settings.PERDURA_HTTP_POLL_SECONDS)
            result = self.replay.run(self.past_history(), new_events)
        self.replay_seconds = time.perf_counter() - started
        completion = result.completion
        try:
            check_payload_size(result.custom_status, "the custom status")
            for action in result.actions:
                check_payload_size(getattr(action, "input", None) or getattr(action, "data", None), action.describe())
            if completion is not None:
                check_payload_size(completion.output, "the orchestrator's output")
        except PayloadTooLargeError as error:
            self.history += new_events
            self._finish(engine.Completion(OrchestrationStatus.FAILED, failure=FailureDetails.from_exception(error)))
            return
        self.history += result.history
        self.fields["custom_status"] = result.custom_status
        if self.status in (OrchestrationStatus.PENDING, OrchestrationStatus.CONTINUED_AS_NEW):
            self._set_status(OrchestrationStatus.RUNNING)
        for action in result.actions:
            self._apply(action)
        if completion is not None:
            self._finish(completion, history_has_completion=True)

    # Actions.

    def _apply(self, action: act.Action) -> None:
        execution_id = self.instance.execution_id
        match action:
            case act.ScheduleActivity() if is_known_activity(action.name):
                item = WorkItem.for_call(
                    self.instance.pk, execution_id, action.task_id, action.name, action.input, self.now
                )
                item.trace_parent = tracing.current_parent()
                self.work_items.append(item)
            case act.ScheduleActivity():
                error = UnknownFunctionError(f"no activity named {action.name!r} is registered")
                self._to_self(ev.task_failed(self.now, action.task_id, FailureDetails.from_exception(error)))
            case act.CreateTimer():
                event = ev.timer_fired(action.fire_at, action.task_id, action.fire_at)
                self._to_self(event, visible_at=action.fire_at)
            case act.CreateSubOrchestration():
                self._start_child(action)
            case act.SendEvent():
                event = ev.event_raised(self.now, action.name, action.data)
                self.outgoing.append(Message.for_event(action.instance_id, event, visible_at=self.now))
            case act.CallEntity() | act.LockEntities():
                target = action.entity_id if isinstance(action, act.CallEntity) else action.entity_ids[0]
                self._to_entity(target, action.to_event(self.now))
            case act.SignalEntity():
                visible_at = max(action.scheduled_time or self.now, self.now)
                self._to_entity(action.entity_id, action.to_event(self.now), visible_at)
            case act.UnlockEntities():
                self._release_locks(action.entity_ids)
            case act.RequestApproval():
                self.approvals.append(
                    Approval(
                        instance_id=self.instance.pk,
                        execution_id=execution_id,
                        task_id=action.task_id,
                        name=action.name,
                        title=action.title,
                        details=action.details,
                        assignees=list(action.assignees),
                        requested_at=self.now,
                        deadline=action.deadline,
                    )
                )

    def _start_child(self, action: act.CreateSubOrchestration) -> None:
        # Whether the id is free is checked at the checkpoint, under the row lock (_admit_children).
        if not registry.has(FunctionKind.ORCHESTRATOR, action.name):
            refusal = UnknownFunctionError(f"no orchestrator named {action.name!r} is registered")
            event = ev.sub_orchestration_failed(self.now, action.task_id, FailureDetails.from_exception(refusal))
            self._to_self(event)
            return
        child = new_instance_row(
            action.instance_id,
            action.name,
            action.input,
            version=action.version or "",
            parent_instance_id=self.instance.pk,
            parent_task_id=action.task_id,
            now=self.now,
        )
        child.parent_execution_id = self.instance.execution_id
        started = ev.execution_started(
            self.now,
            action.name,
            action.input,
            version=action.version,
            parent_instance_id=self.instance.pk,
            parent_task_id=action.task_id,
        )
        start = Message.for_event(child.pk, started)
        self.children.append(child)
        self.child_starts.append(start)
        self.outgoing.append(start)

    def _to_entity(self, entity_id: str, event: engine.HistoryEvent, visible_at: datetime | None = None) -> None:
        # The entity answers (calls, lock grants) to this execution only.
        event = dataclasses.replace(event, details={**event.details, "sender_execution_id": self.instance.execution_id})
        self.outgoing.append(
            Message.for_event(entity_id, event, visible_at=visible_at or self.now, sender=self.instance.pk)
        )

    def _release_locks(self, entity_ids: Iterable[str]) -> None:
        for entity_id in entity_ids:
            self._to_entity(entity_id, ev.entity_unlock_sent(self.now, -1, list(entity_ids)))

    def past_history(self) -> list[engine.HistoryEvent]:
        if self._past is None:
            rows = HistoryRow.objects.filter(instance_id=self.instance.pk).order_by("sequence")
            self._past = [row.to_engine() for row in rows]
        return self._past

    def _to_self(self, event: engine.HistoryEvent, visible_at: datetime | None = None) -> None:
        message = Message.for_event(
            self.instance.pk, event, execution_id=self.instance.execution_id, visible_at=visible_at or self.now
        )
        self.outgoing.append(message)

    # Endings.

    def _finish(self, completion: engine.Completion, history_has_completion: bool = False) -> None:
        self._release_held_locks()
        if completion.status == OrchestrationStatus.CONTINUED_AS_NEW:
            self._continue_as_new(completion)
            return
        if not history_has_completion:
            self.history.append(
                ev.execution_completed(self.now, completion.status, completion.output, completion.failure)
            )
        self._set_status(completion.status)
        self.fields["output"] = completion.output
        self.fields["failure"] = completion.failure.to_dict() if completion.failure else None
        self.fields["completed_at"] = self.now
        self._notify_parent(completion.output, completion.failure)

    def _release_held_locks(self) -> None:
        """An orchestration that ends holding entity locks (or waiting for them) releases them."""
        held = held_locks([*self.past_history(), *self.history])
        if held:
            self._release_locks(held)

    def _terminate(self, event: engine.HistoryEvent) -> None:
        self._release_held_locks()
        self.history += [
            ev.execution_terminated(self.now, event.data),
            ev.execution_completed(self.now, OrchestrationStatus.TERMINATED, event.data),
        ]
        self._set_status(OrchestrationStatus.TERMINATED)
        self.fields.update(output=event.data, completed_at=self.now)
        reason = loads(event.data)
        failure = FailureDetails("Terminated", f"the sub-orchestration was terminated: {reason or 'no reason given'}")
        self._notify_parent(None, failure)

    def _continue_as_new(self, completion: engine.Completion) -> None:
        self.reset_history = True
        self.history = []
        new_execution_id = uuid.uuid4().hex
        self.instance.execution_id = new_execution_id
        self._set_status(OrchestrationStatus.CONTINUED_AS_NEW)
        self.fields.update(execution_id=new_execution_id, input=completion.new_input, output=None, failure=None)
        # Answers to the old execution's calls still waiting in the inbox are now stale.
        self.outgoing = [message for message in self.outgoing if not message.execution_id]
        self.work_items = []
        self.approvals = []
        started = ev.execution_started(
            self.now,
            self.instance.name,
            completion.new_input,
            version=self.instance.version or None,
            parent_instance_id=self.instance.parent_instance_id,
            parent_task_id=self.instance.parent_task_id,
        )
        self.outgoing.append(Message.for_event(self.instance.pk, started))
        for event in completion.carryover_events:
            self.outgoing.append(Message.for_event(self.instance.pk, event, visible_at=self.now))
        if any(event.event_type == EventType.EXECUTION_SUSPENDED for event in self.control_history):
            # Suspended in the same breath as it continued: the next execution starts suspended.
            suspension = next(e for e in self.control_history if e.event_type == EventType.EXECUTION_SUSPENDED)
            self.outgoing.append(Message.for_event(self.instance.pk, suspension, visible_at=self.now))

    def _notify_parent(self, output: str | None, failure: FailureDetails | None) -> None:
        parent_id, task_id = self.instance.parent_instance_id, self.instance.parent_task_id
        if not parent_id or task_id is None:
            return
        if failure is None:
            event = ev.sub_orchestration_completed(self.now, task_id, output)
        else:
            event = ev.sub_orchestration_failed(self.now, task_id, failure)
        # Only the parent execution that started this one may take the answer: a parent that
        # continued as new (or was restarted) since has another task under that number.
        self.outgoing.append(Message.for_event(parent_id, event, execution_id=self.instance.parent_execution_id))

    def _set_status(self, status: OrchestrationStatus) -> None:
        self.status = status
        self.fields["runtime_status"] = status.value

    def committed(self) -> None:
        """The episode is written: keep its replay for the next one, and count it."""
        replay_cache.remember(self)
        name = metrics.function_label(FunctionKind.ORCHESTRATOR, self.instance.name)
        if self.replay_seconds is not None:
            metrics.observe(metrics.EPISODE_SECONDS, self.replay_seconds, name)
        if self.status.is_terminal and not self.status_before.is_terminal:
            metrics.inc(metrics.ORCHESTRATIONS_FINISHED, name, str(self.status))
        if self.set_aside_messages:
            metrics.inc(metrics.MESSAGES_SET_ASIDE, "orchestration", amount=len(self.set_aside_messages))
        for child in self.children:
            metrics.inc(metrics.ORCHESTRATIONS_STARTED, metrics.function_label(FunctionKind.ORCHESTRATOR, child.name))

    # Writing it all.

    # What the batch checkpoint reads.

    @property
    def first_sequence(self) -> int:
        return 0 if self.reset_history else self.instance.history_length

    @property
    def execution_id(self) -> str:
        return self.fields.get("execution_id", self.instance.execution_id)

    def knows_next_message(self) -> bool:
        """Whether the instance's next wake-up is still the one read with its locked row: the
        episode took no message from its inbox and sent none to itself."""
        return (
            self.row_locked
            and not self.consumed_ids
            and all(message.instance_id != self.instance.pk for message in self.outgoing)
        )

    def history_rows(self) -> list[HistoryRow]:
        first, instance_id, execution_id = self.first_sequence, self.instance.pk, self.execution_id
        return [
            HistoryRow.from_engine(instance_id, execution_id, first + offset, event)
            for offset, event in enumerate(self.history)
        ]


def commit_episodes(plans: list[EpisodePlan], worker_id: str) -> None:
    """Checkpoint episodes in one transaction: consumed messages deleted, history appended,
    work items, approvals and outgoing messages written, instance rows updated; or nothing, if
    any instance's lease was lost or any message was consumed by someone else."""
    if not plans:
        return
    ids = [plan.instance.pk for plan in plans]
    consumed = [message_id for plan in plans for message_id in plan.consumed_ids]
    with transaction.atomic():
        addresses = {address for address in [*ids, *episode_targets(plans)] if not is_entity_address(address)}
        rows = fetch_rows(Instance, sorted(addresses), lock=True)
        lost = set(ids) - {row.pk for row in rows if row.lease_owner == worker_id}
        if lost:
            raise LeaseLostError(", ".join(sorted(lost)))
        also = [delete_statement(Message, consumed)] if consumed else []
        locked = {row.pk: LockedRow(row.runtime_status, row.execution_id) for row in rows}
        deleted = write_episodes(plans, worker_id, locked, also=also).also
        if consumed and deleted != [len(consumed)]:
            raise LeaseLostError(", ".join(ids))  # Another worker took some of the messages.
    for plan in plans:
        plan.committed()
