"""Concurrency slots: a function limited to ``max_concurrency`` runs at once has that many
``ConcurrencySlot`` rows, numbered 0 to N-1. A run holds one: its ``holder`` is set and its
``lease_until`` is renewed while it runs, so the limit holds across every worker process and
machine, and a slot whose holder died (SIGKILL, a lost machine) is free again once its lease
has ended.

Every statement against the slot table is here. The rows are made when first needed (or by
``sync_slots`` at a worker's start); a slot numbered past the function's current limit is
never granted, so lowering a limit takes effect at once, and ``sync_slots`` deletes the
rows past it once they are free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from functions.models import ConcurrencySlot
from orchestrations.store.bulk import claim_rows, db_time

#: The rule "the slot is free", as SQL with the current time as its one parameter.
SLOT_FREE_SQL = "(holder = '' OR lease_until IS NULL OR lease_until < %s)"


def slot_free(now: datetime) -> Q:
    """The same rule as a queryset filter."""
    return Q(holder="") | Q(lease_until__isnull=True) | Q(lease_until__lt=now)


@dataclass(frozen=True)
class Acquired:
    """What ``acquire_slots`` granted: the numbers of the slots now held and, only when fewer
    were granted than wanted, ``free_at``: when a slot held by another run frees up at the
    latest (its lease ends; a release frees it sooner), the time to try again."""

    numbers: list[int] = field(default_factory=list)
    free_at: datetime | None = None

    @property
    def granted(self) -> int:
        return len(self.numbers)


def lease_end(now: datetime | None = None) -> datetime:
    """How long a slot stays held without a renewal: the engine's lease time."""
    return (now or timezone.now()) + timedelta(seconds=settings.PERDURA_LEASE_SECONDS)


def acquire_slots(function_name: str, limit: int, wanted: int, holder: str) -> Acquired:
    """Take up to ``wanted`` free slots of ``function_name`` (limited to ``limit``) for
    ``holder``, lowest numbers first, in one statement (FOR UPDATE SKIP LOCKED on PostgreSQL,
    so concurrent workers take different slots without waiting for each other).

    Only when that falls short does it look further: it makes any missing slot rows (a
    function seen for the first time, or a raised limit) and tries again, and reads when the
    earliest held slot's lease ends, for the caller to know when to try again."""
    if wanted < 1:
        return Acquired()
    numbers = _claim(function_name, limit, wanted, holder)
    if len(numbers) >= wanted:
        return Acquired(numbers)
    if ensure_slots(function_name, limit):
        numbers += _claim(function_name, limit, wanted - len(numbers), holder)
        if len(numbers) >= wanted:
            return Acquired(numbers)
    held = ConcurrencySlot.objects.filter(function_name=function_name, number__lt=limit).exclude(
        slot_free(timezone.now())
    )
    free_at = held.aggregate(earliest=Min("lease_until"))["earliest"]
    # Every slot may have been released between the two statements: then it is free now.
    return Acquired(numbers, free_at or timezone.now())


def _claim(function_name: str, limit: int, wanted: int, holder: str) -> list[int]:
    now = timezone.now()
    slots = claim_rows(
        ConcurrencySlot,
        ready=f"function_name = %s AND number < %s AND {SLOT_FREE_SQL}",
        ready_params=[function_name, limit, db_time(now)],
        order_by="number",
        limit=wanted,
        assignments="holder = %s, lease_until = %s",
        assignment_params=[holder, db_time(lease_end(now))],
    )
    return sorted(slot.number for slot in slots)


def release_slots(function_name: str, numbers: Sequence[int], holder: str) -> int:
    """Free the slots ``holder`` holds among ``numbers``; how many it still held (a slot whose
    lease ended and that another run took since is not touched)."""
    if not numbers:
        return 0
    return ConcurrencySlot.objects.filter(function_name=function_name, number__in=numbers, holder=holder).update(
        holder="", lease_until=None
    )


def renew_slots(function_name: str, numbers: Sequence[int], holder: str) -> int:
    """Extend the leases of the slots ``holder`` still holds among ``numbers`` (for runs that
    outlast a lease); how many it still held."""
    if not numbers:
        return 0
    return ConcurrencySlot.objects.filter(function_name=function_name, number__in=numbers, holder=holder).update(
        lease_until=lease_end()
    )


def ensure_slots(function_name: str, limit: int) -> bool:
    """Give ``function_name`` its ``limit`` slot rows; whether any were missing. Rows numbered
    past the limit are never granted, and ``sync_slots`` deletes them once free."""
    existing = set(
        ConcurrencySlot.objects.filter(function_name=function_name, number__lt=limit).values_list("number", flat=True)
    )
    missing = [number for number in range(limit) if number not in existing]
    if missing:
        # Another worker may be adding the same rows: the unique constraint keeps one of each.
        ConcurrencySlot.objects.bulk_create(
            [ConcurrencySlot(function_name=function_name, number=number) for number in missing],
            ignore_conflicts=True,
        )
    return bool(missing)


def sync_slots(limits: Mapping[str, int]) -> None:
    """Make the slot table match the registered limits (function name -> max_concurrency):
    each limited function gets its rows, and the free rows of functions no longer limited, or
    numbered past a lowered limit, are deleted (held ones once released, at the next sync)."""
    surplus = ~Q(function_name__in=list(limits))
    for function_name, limit in limits.items():
        ensure_slots(function_name, limit)
        surplus |= Q(function_name=function_name, number__gte=limit)
    ConcurrencySlot.objects.filter(slot_free(timezone.now())).filter(surplus).delete()


def held_slots(function_name: str) -> int:
    """How many of the function's slots are held now (for the console and the tests)."""
    return ConcurrencySlot.objects.filter(function_name=function_name).exclude(slot_free(timezone.now())).count()
