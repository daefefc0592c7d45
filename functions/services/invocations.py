"""Readings of the invocation record for the console: how often each function ran and failed
recently, and how long its runs took per time bucket (p50 and p95).

Nothing here changes anything. Percentiles are computed in Python from one query over the
window's start and end times: SQLite has no percentile aggregate, and one query that both
databases answer alike is the one rule for both. The window is bounded (an hour or a day of
one function, read through the ``(function_name, -started_at)`` index).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from functions.models import FunctionTally, Invocation

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True)
class RecentCounts:
    """One function's invocations and failures in the last hour and the last day."""

    runs_hour: int = 0
    failures_hour: int = 0
    runs_day: int = 0
    failures_day: int = 0


@dataclass(frozen=True)
class Bucket:
    """One time bucket of a function's invocations: those started in [at, at + size)."""

    at: datetime
    runs: int
    failures: int
    #: Percentiles of the finished runs' durations; None when none finished in the bucket.
    p50: timedelta | None
    p95: timedelta | None


def recent_counts(now: datetime | None = None) -> dict[str, RecentCounts]:
    """Every function's invocations and failures in the last hour and day, by function name,
    in one grouped query."""
    now = now or timezone.now()
    failed = Q(status=Invocation.Status.FAILED)
    last_hour = Q(started_at__gte=now - HOUR)
    rows = (
        Invocation.objects.filter(started_at__gte=now - DAY)
        .values("function_name")
        .annotate(
            runs_day=Count("pk"),
            failures_day=Count("pk", filter=failed),
            runs_hour=Count("pk", filter=last_hour),
            failures_hour=Count("pk", filter=failed & last_hour),
        )
        .order_by()
    )
    return {
        row["function_name"]: RecentCounts(
            runs_hour=row["runs_hour"],
            failures_hour=row["failures_hour"],
            runs_day=row["runs_day"],
            failures_day=row["failures_day"],
        )
        for row in rows
    }


@dataclass(frozen=True)
class RecentTally:
    """One orchestrator's episodes, or one entity's batches, in the last hour and day."""

    hour: int = 0
    day: int = 0


def recent_tallies(now: datetime | None = None) -> dict[tuple[str, str], RecentTally]:
    """Episodes of each orchestrator and batches of each entity in the last hour and day, by
    (kind, function name): whole minutes, as they are counted (functions/worker/tally.py)."""
    now = now or timezone.now()
    rows = (
        FunctionTally.objects.filter(minute__gte=now - DAY)
        .values("kind", "function_name")
        .annotate(day=Sum("count"), hour=Sum("count", filter=Q(minute__gte=now - HOUR)))
        .order_by()
    )
    return {(row["kind"], row["function_name"]): RecentTally(row["hour"] or 0, row["day"] or 0) for row in rows}


def percentile(sorted_values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of the values
    at or below it (so p50 of 1..10 is 5 and p95 is 10, always a value that occurred)."""
    if not sorted_values:
        return None
    rank = max(math.ceil(fraction * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def bucket_start(moment: datetime, size: timedelta) -> datetime:
    """The start of the bucket of ``size`` that ``moment`` falls in, aligned to the epoch (so
    15-minute buckets start at :00, :15, :30 and :45)."""
    seconds = size.total_seconds()
    stamp = moment.timestamp()
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)


def duration_buckets(function_name: str, size: timedelta, count: int, now: datetime | None = None) -> list[Bucket]:
    """``count`` buckets of ``size``, oldest first, the last one holding ``now``: per bucket the
    invocations of ``function_name`` started in it, its failures, and p50/p95 of the durations
    of those that have finished."""
    now = now or timezone.now()
    first = bucket_start(now, size) - size * (count - 1)
    rows = Invocation.objects.filter(function_name=function_name, started_at__gte=first).values_list(
        "started_at", "ended_at", "status"
    )
    runs = [0] * count
    failures = [0] * count
    durations: list[list[timedelta]] = [[] for _ in range(count)]
    for started_at, ended_at, status in rows.iterator(chunk_size=5000):
        index = int((started_at - first) / size)
        if index >= count:
            continue  # Started after ``now`` was read: the next reading shows it.
        runs[index] += 1
        failures[index] += status == Invocation.Status.FAILED
        if ended_at is not None:
            durations[index].append(ended_at - started_at)
    buckets = []
    for index in range(count):
        ordered = sorted(durations[index])
        buckets.append(
            Bucket(
                at=first + size * index,
                runs=runs[index],
                failures=failures[index],
                p50=percentile(ordered, 0.50),
                p95=percentile(ordered, 0.95),
            )
        )
    return buckets


def last_hour_by_minute(function_name: str, now: datetime | None = None) -> list[Bucket]:
    return duration_buckets(function_name, timedelta(minutes=1), 60, now)


def last_day_by_quarter_hour(function_name: str, now: datetime | None = None) -> list[Bucket]:
    return duration_buckets(function_name, timedelta(minutes=15), 96, now)
