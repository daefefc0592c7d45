"""The metrics page: throughput, latency and backlog over the last hour, drawn from the samples
the workers take once a minute (orchestrations/store/metric_samples.py), for people without a
Prometheus server. A rate is the difference between two samples; a quantile comes from the
difference of two samples of a histogram's buckets, as Prometheus's ``histogram_quantile``
reads them."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from consoleapp.pages.common import require_permission
from orchestrations.models import MetricSample
from orchestrations.store.metrics import BUCKETS, EPISODE_SECONDS, INVOCATION_SECONDS, SCHEDULE_TO_START

MINUTES = 60
WIDTH, HEIGHT, PAD = 720, 160, 24
BOUNDS = (*(repr(bound) for bound in BUCKETS), "+Inf")


@login_required
@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {**metrics_context(), "nav": "metrics"}
    partial = request.headers.get("HX-Request") == "true"
    template = "console/metrics.html#metrics-charts" if partial else "console/metrics.html"
    return render(request, template, context)


@dataclass
class Point:
    at: datetime
    figures: dict[str, float | None]


def metrics_context(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    last = now.replace(second=0, microsecond=0)
    first = last - timedelta(minutes=MINUTES)
    samples: dict[datetime, dict[str, float]] = defaultdict(dict)
    for minute, name, value in MetricSample.objects.filter(minute__gte=first).values_list("minute", "name", "value"):
        samples[minute][name] = value
    minutes = sorted(samples)
    points = [_point(before, after, samples) for before, after in itertools.pairwise(minutes)]
    queues = sorted(
        {name.split(":", 1)[1] for values in samples.values() for name in values if name.startswith("ready:")}
    )
    latest = samples[max(samples)] if samples else {}
    charts = {
        "Throughput per minute": _chart(
            points,
            first,
            [("started", "started"), ("completed", "completed"), ("failed", "failed"), ("invocations", "invocations")],
            "/min",
        ),
        "Latency": _chart(
            points,
            first,
            [
                ("invocation p50", "invocation_p50"),
                ("invocation p95", "invocation_p95"),
                ("schedule-to-start p95", "schedule_p95"),
                ("episode p95", "episode_p95"),
            ],
            " ms",
        ),
        "Backlog": _chart(points, first, [(queue, f"ready:{queue}") for queue in queues], " ready"),
    }
    return {
        "has_samples": bool(points),
        "charts": list(charts.items()),
        "waiting": sorted(
            ((queue, latest.get(f"ready:{queue}", 0), latest.get(f"oldest:{queue}", 0)) for queue in queues),
            key=lambda row: -row[2],
        ),
    }


def _point(before: datetime, after: datetime, samples: dict[datetime, dict[str, float]]) -> Point:
    old, new = samples[before], samples[after]
    minutes = (after - before).total_seconds() / 60

    def rate(name: str) -> float:
        # A total that went down was reset (its rows cleared): no rate for that minute.
        return max(0.0, new.get(name, 0.0) - old.get(name, 0.0)) / minutes

    def p(quantile: float, metric: str) -> float | None:
        buckets = [max(0.0, new.get(f"{metric}:{b}", 0.0) - old.get(f"{metric}:{b}", 0.0)) for b in BOUNDS]
        seconds = histogram_quantile(quantile, buckets)
        return None if seconds is None else seconds * 1000

    figures: dict[str, float | None] = {
        "started": rate("started"),
        "completed": rate("finished:Completed"),
        "failed": rate("finished:Failed"),
        "invocations": rate(f"{INVOCATION_SECONDS.name}:count"),
        "invocation_p50": p(0.5, INVOCATION_SECONDS.name),
        "invocation_p95": p(0.95, INVOCATION_SECONDS.name),
        "schedule_p95": p(0.95, SCHEDULE_TO_START.name),
        "episode_p95": p(0.95, EPISODE_SECONDS.name),
    }
    figures |= {name: value for name, value in new.items() if name.startswith("ready:")}
    return Point(after, figures)


def histogram_quantile(quantile: float, counts: list[float]) -> float | None:
    """The ``quantile`` of observations counted per bucket (``counts[i]`` in BUCKETS[i-1] to
    BUCKETS[i], the last past the largest bound), interpolated within its bucket; None for none."""
    total = sum(counts)
    if not total:
        return None
    rank, seen = quantile * total, 0.0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index == len(BUCKETS):  # Past the largest bound: that bound is all that is known.
                return BUCKETS[-1]
            lower = BUCKETS[index - 1] if index else 0.0
            return lower + (BUCKETS[index] - lower) * (rank - seen) / count
        seen += count
    return BUCKETS[-1]


def _chart(points: list[Point], first: datetime, series: list[tuple[str, str]], unit: str) -> dict:
    values = [point.figures.get(key) for point in points for _, key in series]
    top = _nice(max((value for value in values if value is not None), default=0.0))
    plot_height = HEIGHT - PAD

    def x(at: datetime) -> float:
        return (at - first).total_seconds() / 60 / MINUTES * WIDTH

    def y(value: float) -> float:
        return plot_height - (value / top * (plot_height - 16) if top else 0)

    lines = []
    for index, (label, key) in enumerate(series):
        drawn = [(point.at, point.figures.get(key)) for point in points]
        latest = next((value for _, value in reversed(drawn) if value is not None), None)
        lines.append(
            {
                "label": label,
                "css": f"series-{index % 6}",
                "points": " ".join(f"{x(at):.1f},{y(value):.1f}" for at, value in drawn if value is not None),
                "latest": latest,
            }
        )
    labels = [{"x": x(first + timedelta(minutes=m)), "at": first + timedelta(minutes=m)} for m in (0, 15, 30, 45)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "plot": plot_height,
        "scale": f"{top:g}{unit}",
        "lines": lines,
        "labels": labels,
    }


def _nice(value: float) -> float:
    """A round number at or above ``value`` for the top of a chart's scale."""
    if value <= 0:
        return 0.0
    step = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10
