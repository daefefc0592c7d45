"""Retention of invocations: the sweeper prunes exactly the rows past
PERDURA_INVOCATION_RETENTION_DAYS, in bounded batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from functions.models import Invocation
from functions.store.retention import prune_invocations
from orchestrations.worker.sweeper import sweep

pytestmark = pytest.mark.django_db


def make(count: int, age: timedelta) -> set[int]:
    started_at = timezone.now() - age
    rows = Invocation.objects.bulk_create(
        Invocation(function_name="console_double", worker="t", started_at=started_at) for _ in range(count)
    )
    return {row.pk for row in rows}


def test_exactly_the_invocations_past_retention_go(settings):
    settings.PERDURA_INVOCATION_RETENTION_DAYS = 7
    old = make(5, timedelta(days=7, minutes=1))
    kept = make(3, timedelta(days=6, hours=23))

    assert prune_invocations() == 5
    assert set(Invocation.objects.values_list("pk", flat=True)) == kept
    assert old.isdisjoint(Invocation.objects.values_list("pk", flat=True))


def test_a_prune_deletes_at_most_its_batches_oldest_first(settings):
    settings.PERDURA_INVOCATION_RETENTION_DAYS = 1
    oldest = make(4, timedelta(days=3))
    newer = make(4, timedelta(days=2))

    assert prune_invocations(batch_size=2, max_batches=2) == 4
    remaining = set(Invocation.objects.values_list("pk", flat=True))
    assert remaining == newer
    assert oldest.isdisjoint(remaining)
    assert prune_invocations(batch_size=2, max_batches=5) == 4
    assert not Invocation.objects.exists()


def test_the_sweeper_prunes(settings):
    settings.PERDURA_INVOCATION_RETENTION_DAYS = 1
    make(2, timedelta(days=2))
    kept = make(1, timedelta(hours=1))

    sweep()

    assert set(Invocation.objects.values_list("pk", flat=True)) == kept
