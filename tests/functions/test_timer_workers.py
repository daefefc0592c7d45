"""Timers run by background workers: in the embedded mode the in-process trigger threads, with
PERDURA_WORKERS=celery real ``manage.py worker`` processes on PostgreSQL and Redis. Each
occurrence runs once whatever the number of workers; a worker killed mid-run loses none."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from functions.models import Invocation, TimerClaim, TimerSchedule
from functions.worker.timers import sync_timers
from orchestrations.models import WorkerHeartbeat
from tests import function_apps_timers as apps
from tests.conftest import WorkerProcess, is_celery_mode, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def running_workers(count: int, env: dict[str, str]):
    """``count`` worker processes (celery mode), or in-process workers with ``count`` trigger
    threads competing for the same occurrences (embedded mode)."""
    if is_celery_mode():
        processes = [WorkerProcess(env) for _ in range(count)]
        for process in processes:
            process.start()
        try:
            yield processes
        finally:
            for process in processes:
                process.stop()
    else:
        from orchestrations.worker.inprocess import InProcessWorkers

        workers = InProcessWorkers(trigger_threads=count)
        workers.start()
        try:
            yield [workers]
        finally:
            workers.stop()


def occurrences(name: str) -> list[tuple[datetime, bool]]:
    """(scheduled_at, past_due) of every recorded run, in occurrence order."""
    inputs = Invocation.objects.filter(function_name=name).values_list("input", flat=True)
    runs = [json.loads(text) for text in inputs]
    return sorted((datetime.fromisoformat(run["scheduled_at"]), run["past_due"]) for run in runs)


def assert_each_occurrence_ran_once(runs: list[tuple[datetime, bool]], every: timedelta) -> None:
    duplicates = [moment for moment, count in Counter(moment for moment, _ in runs).items() if count > 1]
    assert duplicates == [], f"occurrences run more than once: {duplicates}"
    # Occurrences may be missing only after a catch-up run (past due, recorded under the first
    # occurrence it stands for): the workers were not running yet, or were down.
    for (earlier, past_due), (later, _) in itertools.pairwise(runs):
        assert later - earlier == every or past_due, f"no run for the occurrences between {earlier} and {later}"


def distinct_occurrences(name: str) -> int:
    return Invocation.objects.filter(function_name=name).count()


@pytest.mark.parametrize("count", [2, 4])
def test_each_occurrence_of_a_one_second_timer_runs_once_with_several_workers(monkeypatch, count):
    env = apps.enable(monkeypatch, apps.EVERY_SECOND)
    with running_workers(count, env):
        wait_until(lambda: distinct_occurrences(apps.EVERY_SECOND) >= 5, timeout=90, message="five occurrences")
    runs = occurrences(apps.EVERY_SECOND)
    assert len(runs) >= 5
    assert_each_occurrence_ran_once(runs, timedelta(seconds=1))


def test_after_downtime_one_catch_up_run_then_the_schedule(monkeypatch):
    env = apps.enable(monkeypatch, apps.EVERY_SECOND)
    sync_timers()
    missed_since = timezone.now() - timedelta(hours=1)
    TimerSchedule.objects.filter(function_name=apps.EVERY_SECOND).update(next_due=missed_since)
    with running_workers(2, env):
        wait_until(lambda: distinct_occurrences(apps.EVERY_SECOND) >= 3, timeout=90, message="three runs")
    runs = occurrences(apps.EVERY_SECOND)
    assert runs[0] == (missed_since, True)
    assert [moment for moment, _ in runs[1:] if moment < missed_since + timedelta(minutes=59)] == []
    assert_each_occurrence_ran_once(runs[1:], timedelta(seconds=1))


def test_run_on_startup_runs_once_when_two_workers_start_together(monkeypatch):
    env = apps.enable(monkeypatch, apps.ON_STARTUP)
    with running_workers(2, env) as started:
        if is_celery_mode():
            wait_until(lambda: WorkerHeartbeat.objects.count() >= len(started), timeout=90, message="both workers up")
        wait_until(lambda: distinct_occurrences(apps.ON_STARTUP) >= 1, timeout=90, message="the startup run")
        wait_until(
            lambda: (
                not TimerClaim.objects.exists()
                and TimerSchedule.objects.filter(function_name=apps.ON_STARTUP, run_requested_at__isnull=False).count()
                == 0
            ),
            timeout=30,
            message="no run pending",
        )
    runs = occurrences(apps.ON_STARTUP)
    assert len(runs) == 1


@pytest.mark.skipif(not is_celery_mode(), reason="kills a worker process: PERDURA_WORKERS=celery")
def test_a_worker_killed_midway_loses_no_occurrence_and_duplicates_none(monkeypatch):
    env = {**apps.enable(monkeypatch, apps.EVERY_SECOND), "PERDURA_LEASE_SECONDS": "2"}
    with running_workers(2, env) as (doomed, survivor):
        wait_until(lambda: distinct_occurrences(apps.EVERY_SECOND) >= 3, timeout=90, message="three runs")
        doomed.kill()
        killed_at = distinct_occurrences(apps.EVERY_SECOND)
        wait_until(
            lambda: distinct_occurrences(apps.EVERY_SECOND) >= killed_at + 4 and not TimerClaim.objects.exists(),
            timeout=90,
            message="four more runs and every claim of the killed worker run",
        )
        assert survivor.is_running
    assert_each_occurrence_ran_once(occurrences(apps.EVERY_SECOND), timedelta(seconds=1))
