"""``durable timer list|pause|resume|run``: audited changes, exit status 2 for an unknown
timer, refused under read-only."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from functions.models import TimerSchedule
from functions.worker import timers
from orchestrations.access.models import AuditLogEntry
from tests import function_apps_timers as apps
from tests.conftest import REPO
from tests.orchestrations.management.runner import durable

pytestmark = pytest.mark.django_db
NAME = apps.WITH_OUTPUT


@pytest.fixture(autouse=True)
def synced(db):
    timers.sync_timers()


def row() -> TimerSchedule:
    return TimerSchedule.objects.get(function_name=NAME)


def test_list_shows_each_schedule_and_its_state():
    TimerSchedule.objects.filter(function_name=apps.FAILING).update(is_paused=True)
    outcome = durable("timer", "list")
    assert outcome.exit_code == 0
    lines = {line.split()[0]: line for line in outcome.stdout.splitlines()[1:]}
    assert "paused" in lines[apps.FAILING] and "disabled" in lines[NAME]


def test_list_as_json_has_the_next_five_occurrences(monkeypatch):
    apps.enable(monkeypatch, NAME)
    documents = {document["name"]: document for document in durable("timer", "list", "--json").json()}
    assert documents[NAME]["state"] == "active"
    assert len(documents[NAME]["nextOccurrences"]) == 5


def test_pause_resume_and_run_are_audited_as_the_cli():
    assert durable("timer", "pause", NAME).exit_code == 0 and row().is_paused
    assert "paused already" in durable("timer", "pause", NAME).stdout
    assert durable("timer", "resume", NAME).exit_code == 0 and not row().is_paused
    assert durable("timer", "run", NAME).exit_code == 0 and row().run_requested_at is not None
    entries = AuditLogEntry.objects.order_by("pk").values_list("source", "action", "target_id")
    assert list(entries) == [("cli", "pause", NAME), ("cli", "resume", NAME), ("cli", "run", NAME)]


@pytest.mark.parametrize("action", ["pause", "resume", "run"])
def test_an_unknown_timer_is_exit_status_2_and_changes_nothing(action):
    outcome = durable("timer", action, "no_such_timer")
    assert outcome.exit_code == 2 and "no timer function named 'no_such_timer'" in outcome.stderr
    assert not AuditLogEntry.objects.exists()


def test_a_missing_name_is_exit_status_2():
    assert durable("timer", "pause").exit_code == 2


@pytest.mark.parametrize("action", ["pause", "resume", "run"])
def test_read_only_refuses_changes_but_lists(settings, action):
    settings.PERDURA_READ_ONLY = True
    outcome = durable("timer", action, NAME)
    assert outcome.exit_code == 2 and "PERDURA_READ_ONLY" in outcome.stderr
    assert not row().is_paused and row().run_requested_at is None
    assert durable("timer", "list").exit_code == 0


def test_a_malformed_schedule_stops_the_commands_with_the_functions_name():
    completed = subprocess.run(
        [sys.executable, "manage.py", "durable", "timer", "list"],
        cwd=REPO,
        env={**os.environ, "PERDURA_FUNCTION_APPS": "tests.function_apps_bad_timer"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "function 'nightly_cleanup' (in function app 'tests-bad-timer')" in completed.stderr
    assert "61 * * * *" in completed.stderr
