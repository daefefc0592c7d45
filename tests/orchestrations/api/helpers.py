"""Running the work the API tests create, whoever runs it."""

from __future__ import annotations

import time

import pytest
from django.db.models import Q
from django.utils import timezone

from entities.models import Entity
from orchestrations.models import Instance, WorkItem
from orchestrations.worker.loop import drain_all


def settle(timeout: float = 30.0) -> None:
    """Run everything ready, and wait until no worker is busy: then the database holds what a
    test may assert. The live-server tests commit their data, so in CI's services run the
    session's worker process (tests/conftest.py) may be running some of it at the same time."""
    deadline = time.monotonic() + timeout
    while True:
        drain_all()
        if is_idle():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"work was still ready or running after {timeout}s")
        time.sleep(0.02)


def is_idle() -> bool:
    now = timezone.now()
    busy = Q(next_message_at__lte=now) | Q(lease_expires_at__gt=now)
    return not (
        Instance.objects.filter(busy).exists()
        or Entity.objects.filter(busy).exists()
        or WorkItem.objects.filter(Q(visible_at__lte=now) | Q(lease_expires_at__gt=now)).exists()
    )
