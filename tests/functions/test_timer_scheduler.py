"""The timer scheduler in one process (functions/worker/timers.py): runs recorded as
invocations with their occurrence, catch-up, run on startup, output bindings, failures, and
timers that are disabled or gone."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from functions.models import ConcurrencySlot, Invocation, QueuedMessage, TimerClaim, TimerSchedule
from functions.store.concurrency import acquire_slots, release_slots
from functions.worker import timers
from tests import function_apps_timers as apps

pytestmark = pytest.mark.django_db


def make_due(name: str, ago: timedelta) -> None:
    TimerSchedule.objects.filter(function_name=name).update(next_due=timezone.now() - ago)


def make_due_on_time(name: str) -> None:
    """Due at the start of this second, early in it: the one-second timer's next occurrence is
    most of a second away, so the run is on time, not a catch-up, however the clock falls."""
    while timezone.now().microsecond > 300_000:
        time.sleep(0.05)
    TimerSchedule.objects.filter(function_name=name).update(next_due=timezone.now().replace(microsecond=0))


def runs_of(name: str) -> list[dict]:
    rows = Invocation.objects.filter(function_name=name).order_by("started_at")
    return [{**json.loads(row.input), "status": row.status, "trigger": row.trigger} for row in rows]


def test_every_registered_timer_has_a_schedule_after_sync():
    timers.sync_timers()
    names = set(TimerSchedule.objects.values_list("function_name", flat=True))
    assert {apps.EVERY_SECOND, apps.ON_STARTUP, apps.WITH_OUTPUT, apps.FAILING} <= names


def test_a_due_occurrence_runs_once_and_is_recorded_with_its_time(monkeypatch):
    apps.enable(monkeypatch, apps.EVERY_SECOND)
    timers.sync_timers()
    make_due_on_time(apps.EVERY_SECOND)
    due = TimerSchedule.objects.get(function_name=apps.EVERY_SECOND).next_due
    assert timers.fire_due_timers("w1", 10) == 1
    assert timers.fire_due_timers("w2", 10) == 0
    assert runs_of(apps.EVERY_SECOND) == [
        {
            "scheduled_at": due.isoformat(),
            "past_due": False,
            "requested": False,
            "status": "Completed",
            "trigger": "timer",
        }
    ]
    row = TimerSchedule.objects.get(function_name=apps.EVERY_SECOND)
    assert row.last_status == "Completed" and row.last_run_at is not None
    assert row.next_due > due
    assert not TimerClaim.objects.exists()


def test_after_downtime_one_catch_up_run_has_past_due(monkeypatch):
    apps.enable(monkeypatch, apps.EVERY_SECOND)
    timers.sync_timers()
    make_due(apps.EVERY_SECOND, timedelta(hours=2))
    assert timers.fire_due_timers("w1", 10) == 1
    assert [run["past_due"] for run in runs_of(apps.EVERY_SECOND)] == [True]
    assert TimerSchedule.objects.get(function_name=apps.EVERY_SECOND).next_due > timezone.now() - timedelta(seconds=1)


def test_a_disabled_timer_is_not_fired_and_not_reported_due(monkeypatch):
    timers.sync_timers()
    make_due(apps.EVERY_SECOND, timedelta(hours=2))
    assert not timers.timers_due(timezone.now())
    assert timers.fire_due_timers("w1", 10) == 0
    apps.enable(monkeypatch, apps.EVERY_SECOND)
    assert timers.timers_due(timezone.now())


def test_a_removed_timers_schedule_is_left_but_never_fired(monkeypatch):
    TimerSchedule.objects.create(function_name="gone_timer", schedule="* * * * * *", next_due=timezone.now())
    timers.sync_timers()
    assert timers.fire_due_timers("w1", 10) == 0
    assert TimerSchedule.objects.filter(function_name="gone_timer").exists()


def test_run_on_startup_runs_once_for_workers_starting_together(monkeypatch):
    apps.enable(monkeypatch, apps.ON_STARTUP)
    assert timers.start_timers() == 1
    assert timers.start_timers() == 0
    assert timers.fire_due_timers("w1", 10) + timers.fire_due_timers("w2", 10) == 1
    runs = runs_of(apps.ON_STARTUP)
    assert [(run["requested"], run["past_due"]) for run in runs] == [(True, False)]
    assert Invocation.objects.get(function_name=apps.ON_STARTUP).output == '"started"'


def test_the_output_binding_puts_its_message_with_the_run(monkeypatch):
    apps.enable(monkeypatch, apps.WITH_OUTPUT)
    timers.sync_timers()
    make_due(apps.WITH_OUTPUT, timedelta(seconds=1))
    assert timers.fire_due_timers("w1", 10) == 1
    message = QueuedMessage.objects.get(queue=apps.OUTPUT_QUEUE)
    assert json.loads(message.body)["scheduled_at"] == runs_of(apps.WITH_OUTPUT)[0]["scheduled_at"]


def test_a_failing_run_is_recorded_failed_and_the_schedule_goes_on(monkeypatch):
    apps.enable(monkeypatch, apps.FAILING)
    timers.sync_timers()
    make_due(apps.FAILING, timedelta(seconds=1))
    assert timers.fire_due_timers("w1", 10) == 1
    invocation = Invocation.objects.get(function_name=apps.FAILING)
    assert invocation.status == "Failed" and "on purpose" in invocation.error_message
    row = TimerSchedule.objects.get(function_name=apps.FAILING)
    assert row.last_status == "Failed" and row.next_due > timezone.now()


def test_a_claim_left_by_a_dead_worker_runs_after_its_lease(monkeypatch, settings):
    apps.enable(monkeypatch, apps.EVERY_SECOND)
    timers.sync_timers()
    make_due(apps.EVERY_SECOND, timedelta(milliseconds=10))
    row = TimerSchedule.objects.get(function_name=apps.EVERY_SECOND)
    # The dead worker claimed the occurrence and died before recording its run.
    TimerSchedule.objects.filter(pk=row.pk).update(next_due=row.next_due + timedelta(days=1))
    TimerClaim.objects.create(
        function_name=apps.EVERY_SECOND,
        scheduled_at=row.next_due,
        claimed_by="dead",
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert timers.fire_due_timers("w2", 10) == 1
    assert [run["scheduled_at"] for run in runs_of(apps.EVERY_SECOND)] == [row.next_due.isoformat()]
    assert not TimerClaim.objects.exists()


def test_a_timer_at_its_concurrency_limit_is_left_due_and_runs_once_its_slot_is_free(monkeypatch):
    apps.enable(monkeypatch, apps.LIMITED)
    timers.sync_timers()
    make_due(apps.LIMITED, timedelta(seconds=1))
    [number] = acquire_slots(apps.LIMITED, 1, 1, "another-worker").numbers

    assert timers.fire_due_timers("w1", 10) == 0
    assert runs_of(apps.LIMITED) == []
    assert not TimerClaim.objects.exists()
    release_slots(apps.LIMITED, [number], "another-worker")

    assert timers.fire_due_timers("w1", 10) == 1
    run = Invocation.objects.get(function_name=apps.LIMITED)
    assert json.loads(run.output) == ["w1"]  # The run held the slot ...
    assert (
        not ConcurrencySlot.objects.filter(function_name=apps.LIMITED).exclude(holder="").exists()
    )  # ... until it ended.


@pytest.mark.django_db(transaction=True)
def test_the_alarm_wakes_the_workers_again_only_when_nobody_claimed_the_occurrence(monkeypatch):
    """The first wake-up went to a worker that died with it: the occurrence is still due."""
    apps.enable(monkeypatch, apps.EVERY_SECOND)
    timers.sync_timers()
    make_due_on_time(apps.EVERY_SECOND)
    woken: list[str] = []
    monkeypatch.setattr(timers, "notify_now", woken.append)
    monkeypatch.setattr(timers, "RECHECK_SECONDS", 0.0)
    alarm = timers.TimerAlarm(longest_sleep=1.0)

    alarm._wake_again_if_unclaimed()
    assert woken == ["triggers"]

    assert timers.fire_due_timers("w1", 10) == 1
    alarm._wake_again_if_unclaimed()
    assert woken == ["triggers"]  # Claimed (and run): nothing to wake for.
