"""Activity work: claim a batch of work items, run them, report their results in one transaction.

Activities run at least once: a work item whose worker died is claimed again when its lease
expires. While a batch runs, a keeper thread extends the batch's leases, so a long activity
is not mistaken for a dead one.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from functions.activities import ActivityOutcome, run_activity
from functions.models import Execution

from ..bulk import update_rows
from ..dispatch import ORCHESTRATIONS, notify_on_commit
from ..engine import events as ev
from ..inbox import deliver
from ..models import Instance, Message, WorkItem

logger = logging.getLogger(__name__)


#: How many times in a row an activity worker carries its orchestrations on itself (runs
#: their next episode, then the activity that episode scheduled) before handing them back.
MAX_LOCAL_ROUNDS = 200


def claim_work_items(worker_id: str, limit: int) -> list[tuple[WorkItem, Execution]]:
    now = timezone.now()
    with transaction.atomic():
        items = list(
            WorkItem.objects.select_for_update(skip_locked=True)
            .filter(visible_at__lte=now)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            .order_by("id")[:limit]
        )
        if not items:
            return []
        item_ids = [item.pk for item in items]
        WorkItem.objects.filter(pk__in=item_ids).update(
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=settings.PERDURA_LEASE_SECONDS),
            deliveries=F("deliveries") + 1,
        )
        redelivered = [item.pk for item in items if item.deliveries > 0]
        if redelivered:
            # Their earlier run died with its worker.
            Execution.objects.filter(work_item_id__in=redelivered, status=Execution.Status.RUNNING).update(
                status=Execution.Status.ABANDONED, ended_at=now
            )
        for item in items:
            item.deliveries += 1
        return start_executions(items, worker_id, now)


def start_executions(items: list[WorkItem], worker_id: str, now: datetime) -> list[tuple[WorkItem, Execution]]:
    """Record that this worker starts running these (leased) work items."""
    executions = Execution.objects.bulk_create(
        Execution(
            function_name=item.name,
            instance_id=item.instance_id,
            task_id=item.task_id,
            work_item_id=item.pk,
            attempt=item.deliveries,
            worker=worker_id,
            started_at=now,
            input=item.input,
        )
        for item in items
    )
    return list(zip(items, executions, strict=True))


def process_activities(worker_id: str, limit: int) -> int:
    """Claim a batch of activities and run it. Then, while it can, carry the orchestrations it
    answered on itself: run their next episode here and now and, of the activities each
    schedules, run one itself too. A chain of calls so costs no wake-up and no claim at all."""
    batch = claim_work_items(worker_id, limit)
    total = 0
    rounds = 0
    while batch:
        total += len(batch)
        outcomes = run_batch(batch, worker_id)
        rounds += 1
        batch = complete_work_items(batch, outcomes, worker_id, carry_on=rounds < MAX_LOCAL_ROUNDS)
    return total


def run_batch(batch: list[tuple[WorkItem, Execution]], worker_id: str) -> list[ActivityOutcome]:
    outcomes: list[ActivityOutcome] = []
    with LeaseKeeper([item.pk for item, _ in batch], worker_id):
        for item, execution in batch:
            outcomes.append(run_activity(item.name, item.input))
            execution.ended_at = timezone.now()
    return outcomes


def complete_work_items(
    claimed: list[tuple[WorkItem, Execution]],
    outcomes: list[ActivityOutcome],
    worker_id: str,
    *,
    carry_on: bool = False,
) -> list[tuple[WorkItem, Execution]]:
    """Report the results to their orchestrations. With ``carry_on``, lease those orchestrations
    to this worker in the same transaction, run their next episode, and return the activities
    it keeps for itself to run next."""
    now = timezone.now()
    messages = []
    with transaction.atomic():
        still_ours = set(
            WorkItem.objects.select_for_update()
            .filter(pk__in=[item.pk for item, _ in claimed], lease_owner=worker_id)
            .values_list("pk", flat=True)
        )
        WorkItem.objects.filter(pk__in=still_ours).delete()
        for (item, execution), outcome in zip(claimed, outcomes, strict=True):
            _record(execution, outcome)
            if item.pk not in still_ours:
                logger.warning("work item %s was taken over by another worker; its result is dropped", item.pk)
                continue
            if outcome.failure is None:
                event = ev.task_completed(now, item.task_id, outcome.result)
            else:
                event = ev.task_failed(now, item.task_id, outcome.failure)
            messages.append(Message.for_event(item.instance_id, event, execution_id=item.execution_id))
        deliver(messages, wake=not carry_on)
        answered = sorted({message.instance_id for message in messages})
        carried = _lease_free_instances(answered, worker_id, now) if carry_on else []
        if len(carried) < len(answered) and carry_on:
            notify_on_commit(ORCHESTRATIONS)  # Someone else holds those: wake them.
        update_rows(
            Execution,
            [execution for _, execution in claimed],
            ["status", "ended_at", "output", "error_type", "error_message", "traceback", "logs"],
        )
    if not carried:
        return []
    from .episodes import run_claimed

    return run_claimed(carried, worker_id, keep_work=True)


def _lease_free_instances(instance_ids: list[str], worker_id: str, now: datetime) -> list[str]:
    """Lease to this worker those of the (already locked) instances nobody holds."""
    free = list(
        Instance.objects.filter(pk__in=instance_ids, next_message_at__lte=now)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .values_list("pk", flat=True)
    )
    if free:
        Instance.objects.filter(pk__in=free).update(
            lease_owner=worker_id, lease_expires_at=now + timedelta(seconds=settings.PERDURA_LEASE_SECONDS)
        )
    return free


def _record(execution: Execution, outcome: ActivityOutcome) -> None:
    execution.logs = outcome.logs
    if outcome.failure is None:
        execution.status = Execution.Status.COMPLETED
        execution.output = outcome.result
    else:
        execution.status = Execution.Status.FAILED
        execution.error_type = outcome.failure.error_type
        execution.error_message = outcome.failure.message
        execution.traceback = outcome.failure.stack_trace or ""


class LeaseKeeper:
    """Extends the leases of running work items every third of the lease time."""

    def __init__(self, item_ids: list[int], worker_id: str) -> None:
        self.item_ids = item_ids
        self.worker_id = worker_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="perdura-lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        lease = settings.PERDURA_LEASE_SECONDS
        try:
            while not self._stop.wait(lease / 3):
                started = time.monotonic()
                WorkItem.objects.filter(pk__in=self.item_ids, lease_owner=self.worker_id).update(
                    lease_expires_at=timezone.now() + timedelta(seconds=lease)
                )
                logger.debug("renewed %d leases in %.3fs", len(self.item_ids), time.monotonic() - started)
        finally:
            connection.close()
