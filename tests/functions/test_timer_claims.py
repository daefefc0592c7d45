"""Claiming timer occurrences in the database (functions/store/timers.py), without workers:
one conditional UPDATE per occurrence, catch-up after downtime, claims of dead workers taken
over after their lease, startup runs asked for once by workers starting together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.models import TimerClaim, TimerSchedule
from functions.schedules import parse_schedule
from functions.store import timers as store

pytestmark = pytest.mark.django_db

EVERY_SECOND = parse_schedule("* * * * * *")
EVERY_MINUTE = parse_schedule("0 * * * * *")
LEASE = timedelta(seconds=30)
T0 = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)


def claim(name, due, schedule, now, worker="w1"):
    return store.claim_due(name, due, schedule, now, worker=worker, lease=LEASE)


def test_a_new_timer_is_first_due_at_its_next_occurrence():
    store.sync_schedules({"tick": EVERY_MINUTE}, T0 + timedelta(seconds=10))
    assert TimerSchedule.objects.get(function_name="tick").next_due == T0 + timedelta(minutes=1)


def test_a_changed_schedule_starts_again_from_its_next_occurrence_and_an_unchanged_one_is_left():
    store.sync_schedules({"tick": EVERY_MINUTE}, T0)
    store.sync_schedules({"tick": EVERY_MINUTE}, T0 + timedelta(minutes=5))
    assert TimerSchedule.objects.get(function_name="tick").next_due == T0 + timedelta(minutes=1)
    store.sync_schedules({"tick": EVERY_SECOND}, T0 + timedelta(minutes=5))
    row = TimerSchedule.objects.get(function_name="tick")
    assert (row.schedule, row.next_due) == ("* * * * * *", T0 + timedelta(minutes=5, seconds=1))


def test_an_occurrence_is_claimed_once_by_the_worker_whose_update_moved_next_due():
    store.sync_schedules({"tick": EVERY_SECOND}, T0)
    due = T0 + timedelta(seconds=1)
    now = due + timedelta(milliseconds=5)
    first = claim("tick", due, EVERY_SECOND, now, worker="w1")
    second = claim("tick", due, EVERY_SECOND, now, worker="w2")
    assert first is not None and second is None
    assert (first.scheduled_at, first.past_due, first.requested) == (due, False, False)
    assert TimerSchedule.objects.get(function_name="tick").next_due == due + timedelta(seconds=1)
    assert list(TimerClaim.objects.values_list("claimed_by", "scheduled_at")) == [("w1", due)]


def test_a_paused_timer_is_not_claimed():
    store.sync_schedules({"tick": EVERY_SECOND}, T0)
    TimerSchedule.objects.filter(function_name="tick").update(is_paused=True)
    assert claim("tick", T0 + timedelta(seconds=1), EVERY_SECOND, T0 + timedelta(seconds=2)) is None


def test_a_worker_with_another_schedule_for_the_timer_leaves_it_alone():
    store.sync_schedules({"tick": EVERY_SECOND}, T0)
    assert claim("tick", T0 + timedelta(seconds=1), EVERY_MINUTE, T0 + timedelta(seconds=1)) is None


def test_after_downtime_one_run_stands_for_every_missed_occurrence():
    store.sync_schedules({"tick": EVERY_MINUTE}, T0)
    now = T0 + timedelta(hours=3, seconds=20)
    occurrence = claim("tick", T0 + timedelta(minutes=1), EVERY_MINUTE, now)
    assert occurrence.past_due
    assert TimerSchedule.objects.get(function_name="tick").next_due == T0 + timedelta(hours=3, minutes=1)
    claimed = store.claim_occurrences({"tick": EVERY_MINUTE}, now, worker="w2", lease=LEASE, limit=10)
    assert claimed == []


def test_claim_occurrences_claims_what_is_due_and_nothing_twice():
    store.sync_schedules({"a": EVERY_SECOND, "b": EVERY_SECOND, "later": EVERY_MINUTE}, T0)
    now = T0 + timedelta(seconds=1, milliseconds=1)
    first = store.claim_occurrences(
        {"a": EVERY_SECOND, "b": EVERY_SECOND, "later": EVERY_MINUTE}, now, worker="w1", lease=LEASE, limit=10
    )
    again = store.claim_occurrences(
        {"a": EVERY_SECOND, "b": EVERY_SECOND, "later": EVERY_MINUTE}, now, worker="w2", lease=LEASE, limit=10
    )
    assert sorted(c.function_name for c in first) == ["a", "b"]
    assert again == []


def test_a_dead_workers_claim_is_taken_over_once_its_lease_expires():
    store.sync_schedules({"tick": EVERY_SECOND}, T0)
    due = T0 + timedelta(seconds=1)
    claim("tick", due, EVERY_SECOND, due, worker="dead")
    before_expiry = store.take_over_expired(
        ["tick"], due + LEASE - timedelta(seconds=1), worker="w2", lease=LEASE, limit=5
    )
    after_expiry = store.take_over_expired(
        ["tick"], due + LEASE + timedelta(seconds=1), worker="w2", lease=LEASE, limit=5
    )
    again = store.take_over_expired(["tick"], due + LEASE + timedelta(seconds=1), worker="w3", lease=LEASE, limit=5)
    assert before_expiry == [] and again == []
    assert [(c.function_name, c.scheduled_at) for c in after_expiry] == [("tick", due)]
    assert store.release_claims([after_expiry[0].claim_id], worker="dead") == {after_expiry[0].claim_id}
    assert store.release_claims([after_expiry[0].claim_id], worker="w2") == set()
    assert not TimerClaim.objects.exists()


def test_a_requested_run_is_claimed_once_paused_or_not():
    store.sync_schedules({"tick": EVERY_MINUTE}, T0)
    TimerSchedule.objects.filter(function_name="tick").update(is_paused=True)
    asked = store.request_run("tick", T0)
    assert store.request_run("tick", T0 + timedelta(seconds=1)) == asked
    claimed = store.claim_occurrences(
        {"tick": EVERY_MINUTE}, T0 + timedelta(seconds=2), worker="w1", lease=LEASE, limit=5
    )
    assert [(c.scheduled_at, c.requested) for c in claimed] == [(asked, True)]
    assert (
        store.claim_occurrences({"tick": EVERY_MINUTE}, T0 + timedelta(seconds=2), worker="w2", lease=LEASE, limit=5)
        == []
    )


def test_workers_starting_within_the_window_ask_for_one_startup_run():
    store.sync_schedules({"boot": EVERY_MINUTE}, T0)
    window = timedelta(seconds=30)
    assert store.request_startup_runs(["boot"], T0, window) == 1
    assert store.request_startup_runs(["boot"], T0 + timedelta(seconds=5), window) == 0
    assert TimerSchedule.objects.get(function_name="boot").run_requested_at == T0
    assert store.request_startup_runs(["boot"], T0 + timedelta(minutes=2), window) == 1


def test_resuming_starts_from_the_next_occurrence_without_a_catch_up():
    store.sync_schedules({"tick": EVERY_MINUTE}, T0)
    assert store.set_paused("tick", True, EVERY_MINUTE, T0)
    assert not store.set_paused("tick", True, EVERY_MINUTE, T0)
    assert store.set_paused("tick", False, EVERY_MINUTE, T0 + timedelta(hours=2, seconds=1))
    assert TimerSchedule.objects.get(function_name="tick").next_due == T0 + timedelta(hours=2, minutes=1)
