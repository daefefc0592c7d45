"""The overview: instances by status, throughput, failures, approvals, workers and queues."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consoleapp.pages.overview import throughput_chart
from orchestrations.models import Instance, WorkerHeartbeat
from orchestrations.services.inspection import Minute, throughput
from tests.consoleapp.conftest import completed_instance, failed_instance, running_instance

pytestmark = pytest.mark.django_db


def test_counts_by_status_link_to_the_filtered_list(viewer):
    running_instance("r")
    completed_instance("c1")
    completed_instance("c2")

    page = viewer.get(reverse("overview")).content.decode()

    stats = dict(re.findall(r'<span class="stat-label">(\w+)</span><span class="stat-value">(\d+)</span>', page))
    assert (stats["Running"], stats["Completed"], stats["Failed"]) == ("1", "2", "0")
    assert f"{reverse('instances')}?status=Completed" in page


def test_recent_failures_name_the_error(viewer):
    failed_instance("broken")

    page = viewer.get(reverse("overview")).content.decode()

    assert reverse("instance", args=["broken"]) in page
    assert "TaskFailedError: " in page


def test_live_and_silent_workers_are_told_apart(viewer):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, mode="celery", last_seen=now)
    WorkerHeartbeat.objects.create(
        worker_id="w2", hostname="h", pid=2, mode="celery", last_seen=now - timedelta(hours=1)
    )

    page = viewer.get(reverse("overview")).content.decode()

    assert re.search(r'<p class="big-number ok">1 <span>alive, 2 known</span>', page)


def test_throughput_counts_each_minute_of_the_last_hour():
    now = timezone.now().replace(second=30)
    completed_instance("a")
    failed_instance("b")
    Instance.objects.update(created_at=now - timedelta(minutes=3), completed_at=now - timedelta(minutes=2))

    minutes = throughput(now)

    assert len(minutes) == 60
    two_minutes_ago = [m for m in minutes if m.completed or m.failed]
    assert [(m.completed, m.failed) for m in two_minutes_ago] == [(1, 1)]
    assert sum(m.started for m in minutes) == 2


def test_the_chart_scales_bars_to_the_busiest_minute():
    start = timezone.now()
    minutes = [Minute(start, started=0, completed=4, failed=1), Minute(start, started=10, completed=0, failed=0)]

    chart = throughput_chart(minutes)

    assert chart["scale"] == 10
    assert chart["bars"][0]["completed_height"] == pytest.approx(chart["plot"] * 0.4)
    assert chart["bars"][0]["failed_y"] == pytest.approx(chart["plot"] * 0.5)
