"""Leases: a worker holds a row (an instance, a work item, an entity) until its
``lease_expires_at``; a row with no lease, or one past its expiry, is free for any worker to
claim. The rule in the three forms its readers need, written together."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Model, Q


class LeaseLostError(Exception):
    """Another worker took the row (an instance, a work item, an entity) over while this one
    was working on it: nothing this one would write about it may be written."""


#: As SQL, with the current time as its one parameter.
LEASE_FREE_SQL = "(lease_expires_at IS NULL OR lease_expires_at < %s)"


def lease_free(now: datetime) -> Q:
    """As a queryset filter."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def is_lease_free(row: Model, now: datetime) -> bool:
    """Of a row already read."""
    return row.lease_expires_at is None or row.lease_expires_at < now
