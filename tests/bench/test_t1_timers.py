"""T1's figures from the invocations it finds: occurrences run in the window, duplicates and
lateness. No worker runs here; the workload itself runs in `python -m bench T1`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bench import t1_timers
from functions.models import Invocation

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)


def ran(name: str, second: int, late_ms: float) -> Invocation:
    scheduled_at = START + timedelta(seconds=second)
    return Invocation(
        function_name=name,
        trigger="timer",
        worker="w",
        started_at=scheduled_at + timedelta(milliseconds=late_ms),
        input=json.dumps({"scheduled_at": scheduled_at.isoformat(), "past_due": False, "requested": False}),
    )


def test_figures_count_each_occurrence_once_and_its_duplicates_apart():
    Invocation.objects.bulk_create(
        [
            ran("a", 0, 10),
            ran("a", 1, 20),
            ran("a", 1, 900),  # The same occurrence again: a duplicate.
            ran("b", 0, 30),
            ran("b", 5, 40),  # Outside the window.
        ]
    )
    occurrences, duplicates, lateness = t1_timers._figures("T", ["a", "b"], (START, START + timedelta(seconds=2)), {})
    assert occurrences.value == 3 and occurrences.target == 4
    assert duplicates.value == 1
    assert lateness.value == 900 and lateness.details["p50_lateness_ms"] == 20
