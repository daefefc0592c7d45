"""Timer schedules for operators: what each one is doing, and pause, resume and run now.

Every door (the console, the CLI) goes through these; each change is checked against the
actor's role and written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from functions.models import Invocation, TimerSchedule
from functions.registry import FunctionKind, RegisteredFunction, registry
from functions.schedules import Schedule
from functions.store import timers as store
from functions.worker.timers import sync_timers, trigger_of
from orchestrations.access import audit
from orchestrations.access.audit import Actor
from orchestrations.services.common import BadInputError, NotAllowedError
from orchestrations.store.notices import SCHEDULE, publish_on_commit
from orchestrations.store.wakeups import TRIGGERS, notify_on_commit

PERMISSION = "manage_timers"
#: How many occurrences ahead and runs back a schedule shows.
UPCOMING, LAST_RUNS = 5, 10


class UnknownTimerError(BadInputError, LookupError):
    """No timer function of that name is registered."""


@dataclass(frozen=True)
class TimerView:
    """A schedule as operators see it."""

    row: TimerSchedule
    #: Registered and not disabled: its occurrences run.
    is_enabled: bool
    #: Still registered (a timer removed from the code keeps its row, and is never fired).
    is_registered: bool
    upcoming: list[datetime]
    last_runs: list[Invocation]

    @property
    def name(self) -> str:
        return self.row.function_name


def list_timers(now: datetime | None = None, *, runs: int = LAST_RUNS) -> list[TimerView]:
    """Every schedule, registered ones first, by name."""
    now = now or timezone.now()
    timers = {function.name: function for function in registry.functions(FunctionKind.TIMER)}
    views = [_view(row, timers.get(row.function_name), now, runs) for row in TimerSchedule.objects.all()]
    return sorted(views, key=lambda view: (not view.is_registered, view.name))


def get_timer(name: str, now: datetime | None = None, *, runs: int = LAST_RUNS) -> TimerView:
    function = _timer_function(name)
    return _view(_schedule_row(function), function, now or timezone.now(), runs)


def _view(row: TimerSchedule, function: RegisteredFunction | None, now: datetime, runs: int) -> TimerView:
    upcoming: list[datetime] = []
    if function is not None and not row.is_paused:
        schedule = trigger_of(function).schedule
        # The next run is next_due (which may be past, awaiting a worker), then the schedule.
        start = row.next_due or schedule.next_after(now)
        upcoming = [start, *schedule.upcoming(start, UPCOMING - 1)]
    last_runs = list(
        Invocation.objects.filter(function_name=row.function_name, trigger=Invocation.Trigger.TIMER).order_by(
            "-started_at"
        )[:runs]
    )
    enabled = function is not None and not function.is_disabled
    return TimerView(row, enabled, function is not None, upcoming, last_runs)


def pause(name: str, *, actor: Actor | None, reason: str | None = None) -> bool:
    """Stop running the schedule's occurrences; False if it was paused already."""
    return _set_paused(name, True, actor, reason)


def resume(name: str, *, actor: Actor | None, reason: str | None = None) -> bool:
    """Run it again from its next occurrence (no catch-up for the ones skipped while paused);
    False if it was not paused."""
    return _set_paused(name, False, actor, reason)


def _set_paused(name: str, paused: bool, actor: Actor | None, reason: str | None) -> bool:
    function = _timer_function(name)
    _check_allowed(actor)
    _schedule_row(function)
    now = timezone.now()
    with transaction.atomic():
        changed = store.set_paused(function.name, paused, _schedule(function), now)
        if changed:
            audit.record(actor, "pause" if paused else "resume", "timer", function.name, reason=reason)
            publish_on_commit(SCHEDULE, [function.name])
    return changed


def run_now(name: str, *, actor: Actor | None, reason: str | None = None) -> datetime:
    """Ask for one run now, off schedule (paused or not); a worker runs it once. Returns when
    it was asked for (an earlier request not yet run stands, and is returned)."""
    function = _timer_function(name)
    _check_allowed(actor)
    _schedule_row(function)
    with transaction.atomic():
        requested_at = store.request_run(function.name, timezone.now())
        audit.record(
            actor, "run", "timer", function.name, reason=reason, details={"requested_at": requested_at.isoformat()}
        )
        publish_on_commit(SCHEDULE, [function.name])
        notify_on_commit(TRIGGERS)
    return requested_at


def _timer_function(name: str) -> RegisteredFunction:
    if not isinstance(name, str) or not registry.has(FunctionKind.TIMER, name):
        known = ", ".join(registry.names(FunctionKind.TIMER)) or "none"
        raise UnknownTimerError(f"no timer function named {str(name)[:200]!r} is registered (timers: {known})")
    return registry.get(FunctionKind.TIMER, name)


def _schedule(function: RegisteredFunction) -> Schedule:
    return trigger_of(function).schedule


def _schedule_row(function: RegisteredFunction) -> TimerSchedule:
    """Its row; made now if this deployment's schedules have not been synced yet."""
    row = TimerSchedule.objects.filter(function_name=function.name).first()
    if row is None:
        sync_timers()
        row = TimerSchedule.objects.get(function_name=function.name)
    return row


def _check_allowed(actor: Actor | None) -> None:
    if actor is not None and not actor.may(PERMISSION):
        raise NotAllowedError("your role does not allow pausing, resuming or running timer schedules")
