"""Activity work: claim a batch of work items, run them, report their results in one transaction.

Activities run at least once: a work item whose worker died is claimed again when its lease
expires. While a batch runs, a keeper thread extends the batch's leases, so a long activity
is not mistaken for a dead one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from functions.activities import ActivityOutcome, run_activity
from functions.models import Invocation
from functions.registry import FunctionKind, registry
from functions.store.concurrency import release_slots, renew_slots
from orchestrations.engine import OrchestrationStatus
from orchestrations.engine import events as ev
from orchestrations.engine.events import HistoryEvent
from orchestrations.models import Instance, Message, WorkItem
from orchestrations.store import metrics, notices, tracing
from orchestrations.store.bulk import (
    Statement,
    delete_statement,
    has_returning,
    run_statements,
    select_statement,
    to_objects,
    update_rows,
    update_statement,
)
from orchestrations.store.checkpoint import episode_targets, write_episodes
from orchestrations.store.claims import claim_work_items, wake_parked_work_items
from orchestrations.store.inbox import LockedRow, deliver, lock_instances
from orchestrations.store.leases import LeaseLostError, is_lease_free
from orchestrations.store.rows import ActivityRun
from orchestrations.worker.episodes import EpisodePlan
from orchestrations.worker.renewer import LeaseRenewer
from orchestrations.worker.replay_cache import CachedReplay, replay_cache

logger = logging.getLogger(__name__)


#: How many times in a row an activity worker carries its orchestrations on itself (runs
#: their next episode, then the activity that episode scheduled) before handing them back.
MAX_LOCAL_ROUNDS = 200


def process_activities(worker_id: str, limit: int) -> int:
    """Claim a batch of activities and run it. Then, while it can, carry the orchestrations it
    answered on itself: run their next episode here and now and, of the activities each
    schedules, run one itself too. A chain of calls so costs no wake-up and no claim at all.

    Activities declared with ``max_concurrency`` run only with one of their slots (see
    ``claim_work_items``); carried-on calls of them are left to a claim."""
    batch = claim_work_items(worker_id, limit, registry.limits(FunctionKind.ACTIVITY))
    total = 0
    rounds = 0
    while batch:
        total += len(batch)
        outcomes = run_batch(batch, worker_id)
        rounds += 1
        batch = complete_work_items(batch, outcomes, worker_id, carry_on=rounds < MAX_LOCAL_ROUNDS)
    return total


def run_batch(batch: list[ActivityRun], worker_id: str) -> list[ActivityOutcome]:
    outcomes: list[ActivityOutcome] = []
    holding = [run for run in batch if run.slot is not None]
    with LeaseKeeper([run.item.pk for run in batch], worker_id, holding):
        try:
            for run in batch:
                if run.item.deliveries <= 1:
                    # From ready to running: in a queue, or behind the batch's earlier items.
                    waited = max(0.0, (timezone.now() - run.item.visible_at).total_seconds())
                    metrics.observe(metrics.SCHEDULE_TO_START, waited, _activity_label(run.item.name))
                attributes = {
                    tracing.INSTANCE_ID: run.item.instance_id,
                    tracing.FUNCTION: run.item.name,
                    tracing.ATTEMPT: run.item.deliveries,
                }
                started = time.perf_counter()
                with tracing.span(f"activity {run.item.name}", run.item.trace_parent, attributes=attributes) as span:
                    outcome = run_activity(run.item.name, run.item.input)
                    if span is not None:
                        span.set_attribute(tracing.STATUS, "Completed" if outcome.failure is None else "Failed")
                        if outcome.failure is not None:
                            tracing.failed(span, outcome.failure.message)
                # The run alone: the batch's earlier items are in the schedule-to-start above.
                seconds = time.perf_counter() - started
                outcomes.append(outcome)
                run.execution.ended_at = timezone.now()
                status = Invocation.Status.COMPLETED if outcome.failure is None else Invocation.Status.FAILED
                metrics.observe_invocation(run.item.name, Invocation.Trigger.ACTIVITY, status, seconds)
                if run.slot is not None:
                    # Free for the next run at once, not when the whole batch is reported.
                    _release_slot(run, worker_id)
        finally:
            for run in holding:
                if run.slot is not None:  # The batch was cut short.
                    _release_slot(run, worker_id)
    return outcomes


def _activity_label(name: str) -> str:
    return metrics.function_label(FunctionKind.ACTIVITY, name)


def _release_slot(run: ActivityRun, worker_id: str) -> None:
    release_slots(run.item.name, [run.slot], worker_id)
    run.slot = None
    wake_parked_work_items(run.item.name)


def complete_work_items(
    claimed: list[ActivityRun],
    outcomes: list[ActivityOutcome],
    worker_id: str,
    *,
    carry_on: bool = False,
) -> list[ActivityRun]:
    """Report the results to their orchestrations. With ``carry_on``, run the orchestrations'
    next episode in the same transaction where it can be (see ``_complete_and_carry_on``) and
    return the activities this worker keeps for itself to run next."""
    now = timezone.now()
    answers = []
    for run, outcome in zip(claimed, outcomes, strict=True):
        _record(run.execution, outcome)
        if outcome.failure is None:
            answers.append(Answer(run, ev.task_completed(now, run.item.task_id, outcome.result)))
        else:
            answers.append(Answer(run, ev.task_failed(now, run.item.task_id, outcome.failure)))
    # The function pages showing these activities refresh once the rows are written (one
    # notice per batch, handed to the publisher's queue: nothing waits for it).
    finished_functions = sorted({run.execution.function_name for run in claimed})
    if carry_on and has_returning():
        try:
            kept = _complete_and_carry_on(answers, worker_id, now)
            notices.publish(notices.INVOCATION, finished_functions)
            return kept
        except Exception:
            # Nothing of it was written: hand the results over through the inboxes instead.
            logger.info("could not carry on with %d results; delivering them", len(answers), exc_info=True)
    _complete(answers, worker_id)
    notices.publish(notices.INVOCATION, finished_functions)
    return []


def _complete(answers: list[Answer], worker_id: str) -> None:
    """Record the executions and deliver the results to the orchestrations' inboxes."""
    with transaction.atomic():
        lock_instances(answer.run.item.instance_id for answer in answers)
        ours = _delete_work_items([answer.run.item.pk for answer in answers], worker_id)
        deliver(
            [
                Message.for_event(answer.run.item.instance_id, answer.event, execution_id=answer.run.item.execution_id)
                for answer in answers
                if _still_ours(answer.run.item, ours)
            ]
        )
        update_rows(Invocation, [answer.run.execution for answer in answers], EXECUTION_RESULT)


def _complete_and_carry_on(answers: list[Answer], worker_id: str, now: datetime) -> list[ActivityRun]:
    """Record the executions and, in the same transaction, run the next episode of each
    orchestration they answer that is free to take them now: running the execution they
    answer, not suspended, with nothing in its inbox ahead of them, and held by no other
    worker. The answers go straight into the episode, with no inbox message in between, and
    the instance row stays locked until it is written, so nobody else can work on it
    meanwhile; the rest are delivered to the inboxes for the orchestration workers.

    When this worker wrote every one of these instances last (a chain it carries on), it plans
    the episodes from the rows as it left them and locks and reads the rows in the round trip
    that writes the episodes: if any row is not as it left it, all of that is rolled back and
    done again from the rows read under the lock first."""
    instance_ids = sorted({answer.run.item.instance_id for answer in answers})
    answered: dict[str, set[int]] = {}
    for answer in answers:
        answered.setdefault(answer.run.item.instance_id, set()).add(answer.run.item.task_id)
    cached = replay_cache.rows_of_sole_answers(answered)
    if len(cached) == len(instance_ids) and all(
        _can_take_now(cached[answer.run.item.instance_id], answer.run.item, now) for answer in answers
    ):
        replays = replay_cache.take_exact(cached.values())
        if replays is not None:
            try:
                return _carry_on(answers, worker_id, now, instance_ids, (cached, replays))
            except _RowMovedError:
                logger.debug("an instance changed since this worker wrote it; carrying on under its lock")
    return _carry_on(answers, worker_id, now, instance_ids)


@dataclass(slots=True)
class Answer:
    """A finished run of a work item, and the event that answers its orchestration's call."""

    run: ActivityRun
    event: HistoryEvent


class _RowMovedError(Exception):
    """An instance row was no longer as this worker had left it."""


def _carry_on(
    answers: list[Answer],
    worker_id: str,
    now: datetime,
    instance_ids: list[str],
    as_left: tuple[dict[str, Instance], dict[str, CachedReplay]] | None = None,
) -> list[ActivityRun]:
    """``_complete_and_carry_on`` from the rows locked and read first or, given ``as_left``
    (the rows as this worker left them and their replays), from those, checked against the
    rows locked and read with the writes."""
    with transaction.atomic():
        check = select_statement(Instance, instance_ids, lock=True)
        if as_left is None:
            [rows] = run_statements([check])
            instances = {instance.pk: instance for instance in to_objects(Instance, rows)}
            check = None
        else:
            instances, replays = as_left
            expected = {pk: _row_state(instance) for pk, instance in instances.items()}
        direct: dict[str, list[HistoryEvent]] = {}
        finished: dict[str, list[int]] = {}
        messages = []
        for answer in answers:
            item = answer.run.item
            if _can_take_now(instances.get(item.instance_id), item, now):
                direct.setdefault(item.instance_id, []).append(answer.event)
                finished.setdefault(item.instance_id, []).append(item.pk)
            else:
                messages.append(Message.for_event(item.instance_id, answer.event, execution_id=item.execution_id))
        deliver(messages)
        plans = []
        if as_left is None:
            replays = replay_cache.take_many(instances[instance_id] for instance_id in direct)
        for instance_id, events in direct.items():
            plan = EpisodePlan(instances[instance_id], now, replays[instance_id], row_locked=True)
            plan.take(events)
            plans.append(plan)
        kept = _keep_first_work_items(plans, finished, worker_id)
        locked = {pk: LockedRow(instance.runtime_status, instance.execution_id) for pk, instance in instances.items()}
        targets = [target for target in episode_targets(plans) if target not in locked]
        if targets and check is not None:
            # Own rows are locked before the rows written to, as everywhere.
            _check_unchanged(expected, run_statements([check])[0])
            check = None
        locked |= lock_instances(targets)
        # The work items are taken to be still this worker's: the statements that delete them or
        # take their rows over check it, and if one was taken over (its lease ran out while it
        # ran) everything here is rolled back and the results are delivered by _complete.
        done = sorted({answer.run.item.pk for answer in answers} - {item.pk for item in kept})
        also = [
            check,
            _delete_leased(done, worker_id),
            update_statement(Invocation, [answer.run.execution for answer in answers], EXECUTION_RESULT),
        ]
        if plans:
            written = write_episodes(plans, worker_id, locked, kept=kept, kept_from=worker_id, also=also)
            kept_runs, also_results = written.runs, written.also
        else:
            kept_runs, also_results = [], run_statements(also)
        rows, deleted = also_results[0], also_results[1]  # Of ``check`` and the delete, as listed above.
        if check is not None:
            _check_unchanged(expected, rows)
        if done and deleted != len(done):
            raise LeaseLostError(f"{len(done) - deleted} of the finished work items are no longer {worker_id}'s")
    for plan in plans:
        plan.committed()
    notices.publish(notices.INSTANCE, [*direct, *(child.pk for plan in plans for child in plan.children)])
    return kept_runs


#: What an episode planned from an instance row depends on: if these are as this worker left
#: them, nobody else has written the row since (every writer changes one of them).
ROW_STATE = [
    "execution_id",
    "runtime_status",
    "history_length",
    "updated_at",
    "next_message_at",
    "lease_owner",
    "lease_expires_at",
]


def _row_state(instance: Instance) -> tuple:
    return tuple(getattr(instance, name) for name in ROW_STATE)


def _check_unchanged(expected: dict[str, tuple], rows: list[tuple]) -> None:
    actual = {instance.pk: _row_state(instance) for instance in to_objects(Instance, rows)}
    if actual != expected:
        raise _RowMovedError(", ".join(sorted(pk for pk in expected if actual.get(pk) != expected[pk])))


def _delete_leased(item_ids: list[int], worker_id: str) -> Statement | None:
    """Delete the work items (its row count says how many were still leased to this worker)."""
    return delete_statement(WorkItem, item_ids, where="lease_owner = %s", where_params=[worker_id])


def _keep_first_work_items(plans: list, finished: dict[str, list[int]], worker_id: str) -> list[WorkItem]:
    """Of each episode's new activities, keep the first for this worker to run next: it takes
    over the row of a work item of the same instance that has just finished (one statement
    instead of a delete and an insert), leased to this worker. An activity limited by
    ``max_concurrency`` is not kept: it waits for a claim, which takes a slot for it."""
    kept = []
    limits = registry.limits(FunctionKind.ACTIVITY)
    for plan in plans:
        if plan.work_items and plan.work_items[0].name not in limits:
            item = plan.work_items[0]
            item.pk = finished[plan.instance.pk][0]
            item.lease_owner = worker_id
            item.lease_expires_at = plan.now + timedelta(seconds=settings.PERDURA_LEASE_SECONDS)
            item.deliveries = 1
            kept.append(item)
    return kept


def _can_take_now(instance: Instance | None, item: WorkItem, now: datetime) -> bool:
    return (
        instance is not None
        and instance.execution_id == item.execution_id
        and instance.status == OrchestrationStatus.RUNNING
        and (instance.next_message_at is None or instance.next_message_at > now)
        and is_lease_free(instance, now)
    )


def _delete_work_items(item_ids: list[int], worker_id: str) -> set[int]:
    """Delete the work items still leased to this worker; return their ids."""
    ours = set(
        WorkItem.objects.select_for_update().filter(pk__in=item_ids, lease_owner=worker_id).values_list("pk", flat=True)
    )
    WorkItem.objects.filter(pk__in=ours).delete()
    return ours


def _still_ours(item: WorkItem, ours: set[int]) -> bool:
    if item.pk in ours:
        return True
    logger.warning("work item %s was taken over by another worker; its result is dropped", item.pk)
    return False


#: The width of the error type's column: a class nested deep in a long module path is cut to it.
ERROR_TYPE_LENGTH = Invocation._meta.get_field("error_type").max_length

EXECUTION_RESULT = ["status", "ended_at", "output", "error_type", "error_message", "traceback", "logs"]


def _record(execution: Invocation, outcome: ActivityOutcome) -> None:
    execution.logs = outcome.logs
    if outcome.failure is None:
        execution.status = Invocation.Status.COMPLETED
        execution.output = outcome.result
    else:
        execution.status = Invocation.Status.FAILED
        execution.error_type = outcome.failure.error_type[:ERROR_TYPE_LENGTH]
        execution.error_message = outcome.failure.message
        execution.traceback = outcome.failure.stack_trace or ""


class LeaseKeeper:
    """Extends the leases of running work items, and of the concurrency slots their runs hold,
    every third of the lease time while the ``with`` block runs (see ``LeaseRenewer``)."""

    def __init__(self, item_ids: list[int], worker_id: str, slot_holders: Sequence[ActivityRun] = ()) -> None:
        self.item_ids = item_ids
        self.worker_id = worker_id
        #: The runs that hold a concurrency slot; a run's slot is None once released.
        self.slot_holders = slot_holders

    def __enter__(self) -> LeaseKeeper:
        LeaseRenewer.get().hold(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        LeaseRenewer.get().release(self)

    def __repr__(self) -> str:
        return f"<{len(self.item_ids)} work items of {self.worker_id}>"

    def renew(self) -> None:
        WorkItem.objects.filter(pk__in=self.item_ids, lease_owner=self.worker_id).update(
            lease_expires_at=timezone.now() + timedelta(seconds=settings.PERDURA_LEASE_SECONDS)
        )
        for run in self.slot_holders:
            slot = run.slot
            if slot is not None:
                renew_slots(run.item.name, [slot], self.worker_id)
