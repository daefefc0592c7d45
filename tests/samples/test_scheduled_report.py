"""scheduled_report: a timer that starts the stock report orchestration each minute."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from functions.models import Invocation, TimerSchedule
from functions.worker import timers
from orchestrations import services
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def enabled(monkeypatch):
    # tests/conftest.py keeps the sample timer off for the rest of the suite.
    monkeypatch.delenv("AzureWebJobs.start_stock_report.Disabled", raising=False)


def test_each_minute_starts_one_stock_report_which_sums_the_warehouses(enabled):
    timers.sync_timers()
    schedule = TimerSchedule.objects.get(function_name="start_stock_report")
    assert schedule.schedule == "0 * * * * *"
    schedule.next_due = timezone.now() - timedelta(milliseconds=10)
    schedule.save()

    drain_all()

    run = Invocation.objects.get(function_name="start_stock_report")
    assert (run.trigger, run.status) == ("timer", "Completed")
    instance = Instance.objects.get(name="stock_report")
    assert f"started stock report {instance.instance_id}" in run.logs
    assert json.loads(services.get(instance.instance_id).output) == {
        "total": 330,
        "by_warehouse": {"north": 100, "south": 110, "east": 120},
    }
    following = TimerSchedule.objects.get(function_name="start_stock_report").next_due
    assert following > timezone.now() and following.second == 0


def test_while_disabled_the_timer_runs_nothing():
    timers.sync_timers()
    TimerSchedule.objects.filter(function_name="start_stock_report").update(
        next_due=timezone.now() - timedelta(minutes=5)
    )

    drain_all()

    assert not Invocation.objects.filter(function_name="start_stock_report").exists()
    assert not Instance.objects.filter(name="stock_report").exists()
