"""The timer scheduler: each occurrence of each timer function runs exactly once, whatever the
number of worker processes and machines.

Claiming. Occurrences are computed from the schedule (functions/schedules.py), so every worker
agrees on them; the database decides who runs one. A worker claims an occurrence with one
conditional UPDATE moving the schedule's ``next_due`` forward (``WHERE next_due = <the value
read> AND NOT is_paused``): a row count of 1 means it owns it. In that same transaction it
writes a ``TimerClaim`` row with a lease (``PERDURA_LEASE_SECONDS``), and it deletes the claim
in the transaction that writes the run's invocation.

A worker that dies between the claim and that commit (SIGKILL, a lost machine) leaves its
claims behind. Once their lease has expired, another worker takes each over (a conditional
UPDATE on the holder and lease it read) and runs it, with its original ``scheduled_at``. So a
killed worker loses no occurrence, and an occurrence whose run was recorded never runs again.
What this cannot promise is that a run cut off midway did nothing before it died: the
occurrence runs again in full, as an activity does after a lost lease (at least once for the
work, exactly once for the record). A timer function that runs longer than the lease is
taken over while still running, and then runs twice: keep timer functions shorter than
``PERDURA_LEASE_SECONDS``, or have them start an orchestration.

Catch-up. When the occurrence after the claimed one is also past (no worker ran for a
while), the claimed run stands for every missed occurrence: it gets ``past_due=True`` and
``next_due`` jumps to the first occurrence after now, as Azure runs one catch-up invocation,
not one per missed occurrence.

Run on startup. A worker process start (``start_timers``, at ``manage.py worker`` and when the
in-process workers start) asks for one run of each ``run_on_startup`` timer, as Azure runs it
once per host start; but worker processes that start within ``STARTUP_WINDOW`` of each other
share one run: the request is one conditional UPDATE that only the first of them makes. The
run goes through the same claim as an operator's "run now", so exactly one worker runs it.

Waking on time. Trigger workers otherwise look for due timers when the sweeper polls
(``PERDURA_POLL_SECONDS``), which would make a run up to that late. Each worker process runs a
``TimerAlarm`` thread next to its sweeper: it sleeps until the next occurrence of any enabled
timer (at most one poll interval, so that timers turned on meanwhile are seen) and then wakes
the ``triggers`` queue, in-process or through Celery. Every process's alarm fires; the claim
makes one worker run each occurrence, and the claims of one moment are written in one
transaction, so twenty timers due together cost one commit before they start. A moment after
each wake-up the alarm looks whether the occurrences were claimed, and wakes the workers
again if not: the process that took the wake-up may have died with it.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import ExitStack
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from functions.bindings import TimerRequest
from functions.models import Invocation
from functions.registry import FunctionKind, RegisteredFunction, TimerTrigger, registry
from functions.store import timers as store
from functions.store.queues import put_messages
from functions.worker.concurrency import slots
from functions.worker.invoke import call, record_result
from orchestrations.store.notices import INVOCATION, SCHEDULE, publish_on_commit
from orchestrations.store.wakeups import TRIGGERS, notify, notify_now

logger = logging.getLogger(__name__)

#: How long after waking the workers for an occurrence the alarm looks whether it was claimed.
RECHECK_SECONDS = 0.15
#: Worker processes that start within this long of each other run a run_on_startup timer once.
STARTUP_WINDOW = timedelta(seconds=30)


def enabled_timers() -> dict[str, RegisteredFunction]:
    """The timer functions this process fires: registered and not disabled (Azure's
    ``AzureWebJobs.<name>.Disabled``). A schedule whose function is gone is left alone."""
    return {function.name: function for function in registry.functions(FunctionKind.TIMER) if not function.is_disabled}


def trigger_of(function: RegisteredFunction) -> TimerTrigger:
    trigger = function.trigger
    assert isinstance(trigger, TimerTrigger), f"{function.name} is not a timer function"
    return trigger


def sync_timers(now: datetime | None = None) -> None:
    """Give every registered timer function its schedule row (see ``store.sync_schedules``)."""
    functions = registry.functions(FunctionKind.TIMER)
    store.sync_schedules(
        {function.name: trigger_of(function).schedule for function in functions}, now or timezone.now()
    )


def start_timers(now: datetime | None = None) -> int:
    """What a worker process does as it starts: sync the schedules and ask for the
    ``run_on_startup`` runs; how many it asked for (0 when a peer that started just before did)."""
    now = now or timezone.now()
    sync_timers(now)
    on_startup = [name for name, function in enabled_timers().items() if trigger_of(function).run_on_startup]
    asked = store.request_startup_runs(on_startup, now, STARTUP_WINDOW)
    if asked:
        publish_on_commit(SCHEDULE, on_startup)
        transaction.on_commit(lambda: notify(TRIGGERS))
    return asked


def fire_due_timers(worker_id: str, limit: int) -> int:
    """Claim up to ``limit`` occurrences, run them, and record the runs in one transaction;
    how many ran.

    A timer with ``max_concurrency`` runs only with one of its slots (functions/worker/
    concurrency.py), taken before the claim: at its limit, its occurrence is left unclaimed
    and due, for a later pass (a catch-up run if the next occurrence has come meanwhile)."""
    timers = enabled_timers()
    if not timers:
        return 0
    with ExitStack() as held:
        runnable = {
            name: function
            for name, function in timers.items()
            if function.max_concurrency is None
            or held.enter_context(slots(function, wanted=1, holder=worker_id)).granted
        }
        if not runnable:
            return 0
        schedules = {name: trigger_of(function).schedule for name, function in runnable.items()}
        lease = timedelta(seconds=settings.PERDURA_LEASE_SECONDS)
        claims = store.claim_occurrences(schedules, timezone.now(), worker=worker_id, lease=lease, limit=limit)
        if not claims:
            return 0
        runs = [run_occurrence(runnable[claim.function_name], claim, worker_id) for claim in claims]
        record_runs(runs, worker_id)
    return len(runs)


def run_occurrence(function: RegisteredFunction, claim: store.ClaimedOccurrence, worker_id: str) -> store.TimerRun:
    """Call the function for one claimed occurrence; its invocation keeps which occurrence it
    was in its input, so that the record says which occurrences ran."""
    request = TimerRequest(
        past_due=claim.past_due, schedule=trigger_of(function).schedule.expression, scheduled_at=claim.scheduled_at
    )
    input_text = json.dumps(
        {"scheduled_at": claim.scheduled_at.isoformat(), "past_due": claim.past_due, "requested": claim.requested}
    )
    invoked = call(function, request, trigger=Invocation.Trigger.TIMER, worker=worker_id, input_text=input_text)
    if invoked.succeeded and invoked.value is not None:
        record_result(invoked.invocation, invoked.value)
    return store.TimerRun(claim, invoked.invocation, invoked.outputs)


def record_runs(runs: list[store.TimerRun], worker_id: str) -> None:
    """One transaction for the batch: the invocations, their output messages, each schedule's
    last run, and the end of the claims."""
    with transaction.atomic():
        lost = store.release_claims((run.claim.claim_id for run in runs), worker=worker_id)
        if lost:
            # Only a run that outlived its lease gets here: another worker took it over and
            # runs it again. This run happened all the same, so it is recorded too.
            names = sorted({run.claim.function_name for run in runs if run.claim.claim_id in lost})
            logger.warning("timer runs of %s outlived their lease; another worker ran them again", ", ".join(names))
        Invocation.objects.bulk_create([run.invocation for run in runs])
        for run in runs:
            for queue, texts in run.outputs.items():
                put_messages(queue, texts)
        store.record_last_runs(runs)
        names = sorted({run.claim.function_name for run in runs})
        publish_on_commit(INVOCATION, names)
        publish_on_commit(SCHEDULE, names)


def timers_due(now: datetime) -> bool:
    return store.timers_ready(enabled_timers(), now)


def seconds_until(moment: datetime) -> float:
    return (moment - timezone.now()).total_seconds()


class TimerAlarm(threading.Thread):
    """Wakes the trigger workers when the next occurrence falls due (see the module's docstring).

    It computes the occurrences from the schedules, as the claims do, rather than reading
    ``next_due``: the rows move only once a worker has claimed, so an alarm that read them
    would find nothing after a due time until the claim, and sleep a whole poll interval.
    A wake-up for a paused timer is harmless: the worker finds nothing due."""

    def __init__(self, longest_sleep: float) -> None:
        super().__init__(name="perdura-timer-alarm", daemon=True)
        self.longest_sleep = longest_sleep
        self.stopping = threading.Event()

    def run(self) -> None:
        # Occurrences due before the alarm started are the sweeper's to find.
        fired_up_to = timezone.now()
        while not self.stopping.is_set():
            schedules = [trigger_of(function).schedule for function in enabled_timers().values()]
            due = min((schedule.next_after(fired_up_to) for schedule in schedules), default=None)
            if due is None or seconds_until(due) > self.longest_sleep:
                # Timers registered or turned on meanwhile are seen at the next look.
                self.stopping.wait(self.longest_sleep)
                continue
            self._sleep_until(due)
            if self.stopping.is_set():
                break
            # Not the deduplicated wake-up: one pending with a worker that was killed would hold
            # every occurrence back until its flag expired, and they would be run as one catch-up.
            notify_now(TRIGGERS)
            fired_up_to = due
            self._wake_again_if_unclaimed()

    def _wake_again_if_unclaimed(self) -> None:
        """A wake-up can be lost: the worker process that took it may die before it claims (a
        SIGKILL at the due time, say). A moment later, occurrences still unclaimed get a
        second wake-up rather than wait for the sweeper's next poll, up to a poll interval
        late. Claimed ones are not woken again: a claim held by a dead worker is taken over
        when its lease ends."""
        if self.stopping.wait(RECHECK_SECONDS):
            return
        try:
            if timers_due(timezone.now()):
                notify_now(TRIGGERS)
        except DatabaseError:
            logger.warning("the timer alarm could not look for unclaimed occurrences", exc_info=True)
        finally:
            connections.close_all()  # This thread's: an idle alarm holds no connection.

    def _sleep_until(self, moment: datetime) -> None:
        # A wait can end a little early; a wake-up before the due time would find nothing due
        # and leave the occurrence to the next poll, so it sleeps again for what is left.
        while (remaining := seconds_until(moment)) > 0 and not self.stopping.is_set():
            self.stopping.wait(remaining + 0.001)

    def stop(self) -> None:
        self.stopping.set()
