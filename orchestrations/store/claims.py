"""Claims: a worker leases ready rows to itself, those waiting longest first, skipping rows
another worker holds (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from functions.models import Invocation
from orchestrations.models import Instance, WorkItem
from orchestrations.store.bulk import claim_rows, db_time, insert_rows
from orchestrations.store.leases import LEASE_FREE_SQL
from orchestrations.store.rows import ActivityRun, execution_of


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


def claim_work_items(worker_id: str, limit: int) -> list[ActivityRun]:
    """Lease up to ``limit`` visible work items with no live lease to this worker, oldest
    first, and record that it starts running them."""
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
        redelivered = [item.pk for item in items if item.deliveries > 1]
        if redelivered:
            # Their earlier run died with its worker.
            Invocation.objects.filter(work_item_id__in=redelivered, status=Invocation.Status.RUNNING).update(
                status=Invocation.Status.ABANDONED, ended_at=now
            )
        return start_executions(items, worker_id, now)


def start_executions(items: list[WorkItem], worker_id: str, now: datetime) -> list[ActivityRun]:
    """Record that this worker starts running these (leased) work items."""
    executions = insert_rows(Invocation, [execution_of(item, worker_id, now) for item in items])
    return [ActivityRun(item, execution) for item, execution in zip(items, executions, strict=True)]
