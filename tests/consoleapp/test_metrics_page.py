"""The console's metrics page: samples taken once a minute (store/metric_samples.py), drawn as
rates and quantiles over the last hour."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consoleapp.pages.metrics import histogram_quantile, metrics_context
from functions.store import queues
from orchestrations.models import MetricSample, MetricTotal
from orchestrations.store import metric_samples, metrics
from orchestrations.store.metrics import BUCKETS

pytestmark = pytest.mark.django_db
URL = reverse("monitoring")
INVOCATIONS = metrics.INVOCATION_SECONDS.name


def total(name: str, labels: list[str], series: str, value: float) -> None:
    MetricTotal.objects.update_or_create(name=name, labels=json.dumps(labels), series=series, defaults={"value": value})


def test_one_sample_a_minute_whoever_offers_first_and_two_hours_kept():
    now = timezone.now()
    MetricSample.objects.create(minute=now.replace(second=0, microsecond=0) - timedelta(hours=3), name="x", value=1)
    total(metrics.ORCHESTRATIONS_STARTED.name, ["echo_orchestrator"], "", 7)
    total(metrics.ORCHESTRATIONS_FINISHED.name, ["echo_orchestrator", "Failed"], "", 2)
    queues.put_messages("sampled-q", ["a"], now=now - timedelta(seconds=1))

    assert metric_samples.sample(now) is True
    assert metric_samples.sample(now) is False

    taken = dict(MetricSample.objects.values_list("name", "value"))
    assert taken["started"] >= 7 and taken["finished:Failed"] >= 2
    assert taken["ready:orchestrations"] == 0 and taken["ready:other"] == 1
    assert "x" not in taken  # Older than two hours.


def test_rates_and_quantiles_come_from_the_difference_of_two_samples():
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    before, after = minute - timedelta(minutes=2), minute - timedelta(minutes=1)
    figures = {
        before: {"started": 100, "finished:Completed": 90, f"{INVOCATIONS}:count": 10, f"{INVOCATIONS}:0.1": 10},
        after: {
            "started": 130,
            "finished:Completed": 110,
            "finished:Failed": 3,
            f"{INVOCATIONS}:count": 30,
            f"{INVOCATIONS}:0.1": 20,  # Ten more up to 100 ms,
            f"{INVOCATIONS}:1.0": 10,  # and ten between 500 ms and a second.
            "ready:activities": 4,
            "oldest:activities": 2.5,
        },
    }
    MetricSample.objects.bulk_create(
        MetricSample(minute=at, name=name, value=value)
        for at, values in figures.items()
        for name, value in values.items()
    )

    context = metrics_context(now)

    charts = dict(context["charts"])
    latest = {line["label"]: line["latest"] for line in charts["Throughput per minute"]["lines"]}
    assert latest == {"started": 30, "completed": 20, "failed": 3, "invocations": 20}
    latency = {line["label"]: line["latest"] for line in charts["Latency"]["lines"]}
    assert latency["invocation p50"] == pytest.approx(100.0)  # The tenth of twenty: the top of 50-100 ms.
    assert 500 < latency["invocation p95"] <= 1000
    assert context["waiting"] == [("activities", 4, 2.5)]


def test_the_page_draws_the_charts_and_refreshes_them_in_place(viewer):
    minute = timezone.now().replace(second=0, microsecond=0)
    for offset, started in ((2, 0), (1, 12)):
        MetricSample.objects.create(minute=minute - timedelta(minutes=offset), name="started", value=started)

    page = viewer.get(URL).content.decode()
    partial = viewer.get(URL, HTTP_HX_REQUEST="true").content.decode()

    assert "Throughput per minute" in page and "<polyline" in page
    assert 'hx-trigger="every 60s"' in page
    assert partial.strip().startswith('<div id="metrics-charts"') and "<html" not in partial


def test_before_two_samples_the_page_says_why_it_is_empty(viewer):
    assert "No samples yet" in viewer.get(URL).content.decode()


def test_histogram_quantiles_interpolate_within_the_bucket():
    counts = [0.0] * (len(BUCKETS) + 1)
    assert histogram_quantile(0.5, counts) is None
    counts[BUCKETS.index(0.1)] = 4  # Four observations between 50 and 100 ms.
    assert histogram_quantile(0.5, counts) == pytest.approx(0.075)
    counts[-1] = 100  # Past the largest bound, only that bound is known.
    assert histogram_quantile(0.99, counts) == BUCKETS[-1]
