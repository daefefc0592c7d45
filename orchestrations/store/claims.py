"""Claims: a worker leases ready rows to itself, those waiting longest first, skipping rows
another worker holds (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from functions.models import Invocation
from functions.store.concurrency import acquire_slots
from orchestrations.models import Instance, WorkItem
from orchestrations.store import metrics
from orchestrations.store.bulk import claim_rows, db_time, insert_rows
from orchestrations.store.leases import LEASE_FREE_SQL, lease_free
from orchestrations.store.rows import ActivityRun, execution_of
from orchestrations.store.wakeups import ACTIVITIES, notify_on_commit

#: How many times one claim sets every item it took aside (their functions at their limit)
#: and claims again, before it returns empty-handed to the sweeper's next wake-up.
MAX_CLAIMS_SET_ASIDE = 5


def claim_instances(worker_id: str, limit: int) -> list[str]:
    """Lease up to ``limit`` instances with a ready message and no live lease to this worker,
    those waiting longest first."""
    now = timezone.now()
    ready, ready_params = f"next_message_at <= %s AND {LEASE_FREE_SQL}", [db_time(now), db_time(now)]
    with transaction.atomic():
        claimed = claim_rows(
            Instance,
            ready=ready,
            ready_params=ready_params,
            order_by="next_message_at",
            limit=limit,
            assignments="lease_owner = %s, lease_expires_at = %s",
            assignment_params=[worker_id, db_time(now + timedelta(seconds=settings.PERDURA_LEASE_SECONDS))],
        )
    return [instance.pk for instance in sorted(claimed, key=lambda instance: instance.next_message_at)]


def claim_work_items(
    worker_id: str, limit: int, concurrency_limits: Mapping[str, int] | None = None
) -> list[ActivityRun]:
    """Lease up to ``limit`` visible work items with no live lease to this worker, oldest
    first, and record that it starts running them.

    ``concurrency_limits`` (activity name -> max_concurrency) holds the limited activities:
    of those, an item is kept only with a concurrency slot, and the rest are handed back (see
    ``_within_limits``), in the same transaction. Empty for most apps, and then nothing is
    read or written for it."""
    for _ in range(MAX_CLAIMS_SET_ASIDE):
        now = timezone.now()
        with transaction.atomic():
            items = claim_rows(
                WorkItem,
                ready=f"visible_at <= %s AND {LEASE_FREE_SQL}",
                ready_params=[db_time(now), db_time(now)],
                order_by="id",
                limit=limit,
                assignments="lease_owner = %s, lease_expires_at = %s, deliveries = deliveries + 1",
                assignment_params=[worker_id, db_time(now + timedelta(seconds=settings.PERDURA_LEASE_SECONDS))],
            )
            if not items:
                return []
            slots: dict[int, int] = {}
            if concurrency_limits:
                items, slots = _within_limits(items, concurrency_limits, worker_id)
                if not items:
                    # All were parked, out of the next claim's way: other functions' items
                    # behind them are claimed now rather than at the next wake-up.
                    continue
            redelivered = [item.pk for item in items if item.deliveries > 1]
            if redelivered:
                # Their earlier run died with its worker.
                Invocation.objects.filter(work_item_id__in=redelivered, status=Invocation.Status.RUNNING).update(
                    status=Invocation.Status.ABANDONED, ended_at=now
                )
            runs = start_executions(items, worker_id, now)
        if redelivered:
            metrics.inc(metrics.LEASE_EXPIRIES, "activities", amount=len(redelivered))
        if slots:
            for run in runs:
                run.slot = slots.get(run.item.pk)
            # A slot is held from the claim on: its run goes first, not after the rest of the batch.
            runs.sort(key=lambda run: run.slot is None)
        return runs
    return []


def _within_limits(
    items: list[WorkItem], limits: Mapping[str, int], worker_id: str
) -> tuple[list[WorkItem], dict[int, int]]:
    """Of the claimed items, those this worker may run, and the slot each limited one holds
    (work item id -> slot number). A worker runs its batch one item after another, so one slot
    of a limited activity is all it can use at a time: it takes one, keeps one item for it
    and hands the others back ready, for other workers to take the remaining slots. When no
    slot is free the items are parked until a held slot's lease would end; releasing a slot
    wakes them sooner (``wake_parked_work_items``). Either way they are not failures: their
    delivery count is restored, and they stay out of the way of other activities' items."""
    limited: dict[str, list[WorkItem]] = {}
    for item in items:
        if item.name in limits:
            limited.setdefault(item.name, []).append(item)
    if not limited:
        return items, {}
    slots: dict[int, int] = {}
    for name, waiting in limited.items():
        acquired = acquire_slots(name, limits[name], 1, worker_id)
        if acquired.granted:
            slots[waiting[0].pk] = acquired.numbers[0]
            _hand_back(waiting[1:], worker_id, visible_at=None)
        else:
            _hand_back(waiting, worker_id, visible_at=acquired.free_at)
    return [item for item in items if item.name not in limits or item.pk in slots], slots


def _hand_back(items: list[WorkItem], worker_id: str, *, visible_at: datetime | None) -> None:
    """Undo this transaction's claim of ``items``: no lease, the delivery count as it was, and
    visible again at ``visible_at`` (None: at once, and the activity workers are woken)."""
    if not items:
        return
    changes = {"lease_owner": None, "lease_expires_at": None, "deliveries": F("deliveries") - 1}
    if visible_at is not None:
        changes["visible_at"] = visible_at
    WorkItem.objects.filter(pk__in=[item.pk for item in items], lease_owner=worker_id).update(**changes)
    if visible_at is None:
        notify_on_commit(ACTIVITIES)


def wake_parked_work_items(name: str) -> int:
    """Make the work items of activity ``name`` parked for want of a slot visible now, and wake
    the activity workers for them; how many there were. Called when one of its slots is
    released. Only parking sets a work item's ``visible_at`` in the future."""
    now = timezone.now()
    woken = WorkItem.objects.filter(lease_free(now), name=name, visible_at__gt=now).update(visible_at=now)
    if woken:
        notify_on_commit(ACTIVITIES)
    return woken


def start_executions(items: list[WorkItem], worker_id: str, now: datetime) -> list[ActivityRun]:
    """Record that this worker starts running these (leased) work items."""
    executions = insert_rows(Invocation, [execution_of(item, worker_id, now) for item in items])
    return [ActivityRun(item, execution) for item, execution in zip(items, executions, strict=True)]
