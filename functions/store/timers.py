"""Every statement the timer scheduler makes against ``TimerSchedule`` and ``TimerClaim``.

An occurrence is claimed by one conditional UPDATE that moves the schedule's ``next_due`` from
the value the worker read to the following occurrence; a row count of 1 means this worker owns
it, 0 that another worker (or an operator's pause) got there first. In the same transaction
the claim is written down as a ``TimerClaim`` row with a lease, and it is deleted in the
transaction that records the run, so an occurrence is never lost between the two: a worker
that dies holding a claim leaves the row, and another worker takes it over once its lease has
expired (``take_over_expired``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Q, Value
from django.db.models.functions import Coalesce

from functions.models import Invocation, TimerClaim, TimerSchedule
from functions.schedules import Schedule


@dataclass(frozen=True)
class ClaimedOccurrence:
    """An occurrence this worker now owns and must run."""

    claim_id: int
    function_name: str
    scheduled_at: datetime
    past_due: bool
    requested: bool


@dataclass(frozen=True)
class TimerRun:
    """One claimed occurrence, run: its invocation row and the messages its output bindings put."""

    claim: ClaimedOccurrence
    invocation: Invocation
    #: Queue name -> message texts.
    outputs: Mapping[str, list[str]]


# Schedules from the registry.


def sync_schedules(schedules: Mapping[str, Schedule], now: datetime) -> None:
    """Give each timer a row, its first ``next_due`` the first occurrence after ``now``; a
    schedule whose expression changed starts again from the first occurrence after ``now``.
    Rows of timers no longer registered are kept (their history refers to them), never fired."""
    existing = dict(
        TimerSchedule.objects.filter(function_name__in=list(schedules)).values_list("function_name", "schedule")
    )
    new_rows = [
        TimerSchedule(function_name=name, schedule=schedule.expression, next_due=schedule.next_after(now))
        for name, schedule in schedules.items()
        if name not in existing
    ]
    # Two workers starting together both insert: the second one's rows are already there.
    TimerSchedule.objects.bulk_create(new_rows, ignore_conflicts=True)
    for name, expression in existing.items():
        schedule = schedules[name]
        if expression != schedule.expression:
            TimerSchedule.objects.filter(function_name=name, schedule=expression).update(
                schedule=schedule.expression, next_due=schedule.next_after(now), updated_at=now
            )


def request_startup_runs(names: Iterable[str], now: datetime, window: timedelta) -> int:
    """Ask for one run of each of these ``run_on_startup`` timers, unless a worker start asked
    within ``window`` before ``now``; how many were asked for. One conditional UPDATE: of
    workers starting together, the first asks and the others find it asked."""
    recent = Q(startup_run_at__isnull=False) & Q(startup_run_at__gte=now - window)
    return (
        TimerSchedule.objects.filter(function_name__in=list(names), is_paused=False)
        .exclude(recent)
        .update(startup_run_at=now, run_requested_at=_requested_or(now), updated_at=now)
    )


def _requested_or(now: datetime) -> Coalesce:
    """A run asked for and not yet claimed stands: a second request joins it."""
    return Coalesce("run_requested_at", Value(now, output_field=DateTimeField()))


# Claims.


def claim_occurrences(
    schedules: Mapping[str, Schedule], now: datetime, *, worker: str, lease: timedelta, limit: int
) -> list[ClaimedOccurrence]:
    """Claim up to ``limit`` occurrences of these timers: first claims whose worker died,
    then runs asked for, then scheduled occurrences that are due.

    One transaction for the whole batch, its claims written in one INSERT, so that twenty
    timers due at once cost one commit before they start, not twenty. On PostgreSQL the rows
    are read ``FOR UPDATE SKIP LOCKED``: workers claiming at the same moment share the rows out
    instead of waiting on each other's locks (and never lock two rows in opposite orders); the
    conditional UPDATEs still decide."""
    names = list(schedules)
    with transaction.atomic():
        claimed = take_over_expired(names, now, worker=worker, lease=lease, limit=limit)
        earned: list[TimerClaim] = []
        requested = (
            TimerSchedule.objects.select_for_update(skip_locked=True)
            .filter(function_name__in=names, run_requested_at__isnull=False)
            .order_by("run_requested_at")
            .values_list("function_name", "run_requested_at")
        )
        for name, requested_at in requested[: limit - len(claimed)]:
            earned += _take_requested(name, requested_at, now, worker=worker, lease=lease)
        if len(claimed) + len(earned) < limit:
            due = (
                TimerSchedule.objects.select_for_update(skip_locked=True)
                .filter(function_name__in=names, is_paused=False, next_due__lte=now)
                .order_by("next_due")
                .values_list("function_name", "next_due")
            )
            for name, next_due in due[: limit - len(claimed) - len(earned)]:
                earned += _move_due(name, next_due, schedules[name], now, worker=worker, lease=lease)
        claimed += _write_claims(earned)
    return claimed


def claim_due(
    function_name: str, due: datetime, schedule: Schedule, now: datetime, *, worker: str, lease: timedelta
) -> ClaimedOccurrence | None:
    """Claim the occurrence at ``due`` (the ``next_due`` read), or None if another worker did."""
    with transaction.atomic():
        written = _write_claims(_move_due(function_name, due, schedule, now, worker=worker, lease=lease))
    return written[0] if written else None


def _move_due(
    function_name: str, due: datetime, schedule: Schedule, now: datetime, *, worker: str, lease: timedelta
) -> list[TimerClaim]:
    """The conditional UPDATE that claims the occurrence at ``due``: the claim it earns (to be
    written in the same transaction), or none if another worker moved ``next_due`` first.

    When the occurrence after it is also past (the workers were down), this one run stands for
    all the missed ones (``past_due``) and ``next_due`` jumps to the first occurrence after
    ``now``, as Azure runs one catch-up invocation rather than one per missed occurrence."""
    following = schedule.next_after(due)
    past_due = following <= now
    next_due = schedule.next_after(now) if past_due else following
    # The schedule expression is in the condition too: a worker still running an older
    # deployment leaves alone a schedule that a newer one changed.
    moved = TimerSchedule.objects.filter(
        function_name=function_name, next_due=due, schedule=schedule.expression, is_paused=False
    ).update(next_due=next_due)
    if moved != 1:
        return []
    return [_claim(function_name, due, past_due, False, now, worker=worker, lease=lease)]


def _take_requested(
    function_name: str, requested_at: datetime, now: datetime, *, worker: str, lease: timedelta
) -> list[TimerClaim]:
    """The conditional UPDATE that claims a run asked for at ``requested_at`` (run now, run on
    startup), paused or not, as Azure runs a disabled function by hand."""
    taken = TimerSchedule.objects.filter(function_name=function_name, run_requested_at=requested_at).update(
        run_requested_at=None
    )
    if taken != 1:
        return []
    return [_claim(function_name, requested_at, False, True, now, worker=worker, lease=lease)]


def _claim(
    function_name: str,
    scheduled_at: datetime,
    past_due: bool,
    requested: bool,
    now: datetime,
    *,
    worker: str,
    lease: timedelta,
) -> TimerClaim:
    return TimerClaim(
        function_name=function_name,
        scheduled_at=scheduled_at,
        past_due=past_due,
        requested=requested,
        claimed_by=worker,
        lease_until=now + lease,
    )


def _write_claims(claims: list[TimerClaim]) -> list[ClaimedOccurrence]:
    """Write the claims the UPDATEs earned, in the caller's transaction."""
    if not claims:
        return []
    try:
        with transaction.atomic():
            TimerClaim.objects.bulk_create(claims)
        return [_occurrence(claim) for claim in claims]
    except IntegrityError:
        pass
    # One of them is claimed already (a schedule changed back to an earlier expression): that
    # claim runs it, and this worker must not; the others are written one by one.
    written = []
    for claim in claims:
        claim.pk = None
        try:
            with transaction.atomic():
                claim.save(force_insert=True)
            written.append(_occurrence(claim))
        except IntegrityError:
            continue
    return written


def take_over_expired(
    names: Iterable[str], now: datetime, *, worker: str, lease: timedelta, limit: int
) -> list[ClaimedOccurrence]:
    """Claims whose lease expired: their worker died between the claim and the record of the
    run. Each is taken over by a conditional UPDATE on the holder and lease read."""
    taken = []
    with transaction.atomic():
        expired = (
            TimerClaim.objects.select_for_update(skip_locked=True)
            .filter(function_name__in=list(names), lease_until__lt=now)
            .order_by("scheduled_at")
        )
        for claim in expired[:limit]:
            moved = TimerClaim.objects.filter(pk=claim.pk, claimed_by=claim.claimed_by, lease_until=claim.lease_until)
            if moved.update(claimed_by=worker, lease_until=now + lease) == 1:
                claim.claimed_by = worker
                taken.append(_occurrence(claim))
    return taken


def _occurrence(claim: TimerClaim) -> ClaimedOccurrence:
    return ClaimedOccurrence(claim.pk, claim.function_name, claim.scheduled_at, claim.past_due, claim.requested)


def release_claims(claim_ids: Iterable[int], *, worker: str) -> set[int]:
    """Delete this worker's claims (its runs are recorded); the ids it no longer held."""
    claim_ids = set(claim_ids)
    held = set(TimerClaim.objects.filter(pk__in=claim_ids, claimed_by=worker).values_list("pk", flat=True))
    TimerClaim.objects.filter(pk__in=held, claimed_by=worker).delete()
    return claim_ids - held


def record_last_runs(runs: Iterable[TimerRun]) -> None:
    """Each timer's latest run in this batch, shown with its schedule."""
    latest: dict[str, Invocation] = {}
    for run in runs:
        current = latest.get(run.claim.function_name)
        if current is None or run.invocation.started_at >= current.started_at:
            latest[run.claim.function_name] = run.invocation
    # In name order: two workers recording runs of the same timers lock their rows in one order.
    for name, invocation in sorted(latest.items()):
        TimerSchedule.objects.filter(function_name=name).update(
            last_run_at=invocation.started_at, last_status=invocation.status
        )


# Questions the sweeper and the alarm ask.


def timers_ready(names: Iterable[str], now: datetime) -> bool:
    """Whether any of these timers has work now: a due occurrence, a run asked for, or a claim
    whose worker died."""
    names = list(names)
    if not names:
        return False
    schedules = TimerSchedule.objects.filter(function_name__in=names)
    return (
        schedules.filter(Q(is_paused=False, next_due__lte=now) | Q(run_requested_at__isnull=False)).exists()
        or TimerClaim.objects.filter(function_name__in=names, lease_until__lt=now).exists()
    )


# Operators' actions.


def set_paused(function_name: str, paused: bool, schedule: Schedule, now: datetime) -> bool:
    """Pause or resume; False if it already was so. Resuming starts again from the first
    occurrence after ``now``: the occurrences skipped while paused were skipped on purpose,
    so they get no catch-up run."""
    rows = TimerSchedule.objects.filter(function_name=function_name, is_paused=not paused)
    if paused:
        return rows.update(is_paused=True, updated_at=now) == 1
    return rows.update(is_paused=False, next_due=schedule.next_after(now), updated_at=now) == 1


def request_run(function_name: str, now: datetime) -> datetime:
    """Ask for one run off schedule; a run already asked for and not yet claimed stands."""
    TimerSchedule.objects.filter(function_name=function_name).update(
        run_requested_at=_requested_or(now), updated_at=now
    )
    return TimerSchedule.objects.values_list("run_requested_at", flat=True).get(function_name=function_name)
