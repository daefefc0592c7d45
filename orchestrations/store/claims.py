"""Claims: a worker leases ready rows to itself, those waiting longest first, skipping rows
another worker holds (FOR UPDATE SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orchestrations.models import Instance
from orchestrations.store.bulk import claim_rows, db_time
from orchestrations.store.leases import LEASE_FREE_SQL


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
