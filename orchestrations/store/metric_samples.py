"""Once a minute, the figures the console's metrics page draws: the running totals of the
counters and histograms (summed over their labels) and each queue's backlog, one row per
figure (``MetricSample``). The page draws the differences from one minute to the next, as a
Prometheus server would draw rates, for people who have no Prometheus server.

Every worker process's sweeper offers to take the sample; the first of the minute writes it
(the others find it there, or lose on the unique constraint), and samples older than
``KEEP`` go.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from orchestrations.models import MetricSample
from orchestrations.store import metrics
from orchestrations.store.backlog import backlogs

KEEP = timedelta(hours=2)
#: How often one process looks whether the minute's sample is taken.
SECONDS_BETWEEN_LOOKS = 10.0
#: The histograms the page draws quantiles of.
HISTOGRAMS = (metrics.INVOCATION_SECONDS, metrics.SCHEDULE_TO_START, metrics.EPISODE_SECONDS)

_next_look = 0.0


def sample_when_due() -> bool:
    """``sample()``, from the sweeper, at most every SECONDS_BETWEEN_LOOKS in this process."""
    global _next_look
    if time.monotonic() < _next_look:
        return False
    _next_look = time.monotonic() + SECONDS_BETWEEN_LOOKS
    return sample()


def sample(now: datetime | None = None) -> bool:
    """Take this minute's sample unless a process took it already; whether this call took it."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    if MetricSample.objects.filter(minute=minute).exists():
        return False
    metrics.flush()  # This process's own counts are in the sample too.
    figures = _running_totals()
    for backlog in backlogs(now):
        figures[f"ready:{backlog.queue}"] = backlog.ready
        figures[f"oldest:{backlog.queue}"] = backlog.oldest_age(now)
    MetricSample.objects.bulk_create(
        [MetricSample(minute=minute, name=name, value=value) for name, value in figures.items()],
        ignore_conflicts=True,
    )
    MetricSample.objects.filter(minute__lt=minute - KEEP).delete()
    return True


def _running_totals() -> dict[str, float]:
    figures: dict[str, float] = defaultdict(float)
    figures["started"] = 0.0
    histograms = {metric.name for metric in HISTOGRAMS}
    for row in metrics.totals():
        if row.name == metrics.ORCHESTRATIONS_STARTED.name:
            figures["started"] += row.value
        elif row.name == metrics.ORCHESTRATIONS_FINISHED.name:
            labels = json.loads(row.labels)
            if len(labels) == 2:  # (orchestrator, status); other shapes are another version's.
                figures[f"finished:{labels[1]}"] += row.value
        elif row.name in histograms:
            figures[f"{row.name}:{row.series}"] += row.value
    return dict(figures)
