"""The activity pool's autoscaler (orchestrations/worker/autoscale.py) sizes the pool by the
activities waiting in the database (a process per batch), between --autoscale's MIN and MAX."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from orchestrations import services
from orchestrations.worker import autoscale
from orchestrations.worker.autoscale import BacklogAutoscaler
from orchestrations.worker.loop import drain

pytestmark = pytest.mark.django_db(transaction=True)


class Pool:
    """What the autoscaler asks of Celery's pool: its size, and to grow or shrink it."""

    def __init__(self, processes: int) -> None:
        self.num_processes = processes

    def grow(self, n: int) -> None:
        self.num_processes += n

    def shrink(self, n: int) -> None:
        self.num_processes -= n

    def maintain_pool(self) -> None:
        pass


@pytest.fixture
def scaler(monkeypatch, settings):
    settings.PERDURA_BATCH_SIZE = 2  # A process claims two activities at a time.
    monkeypatch.setenv(autoscale.QUEUE_VARIABLE, "activities")
    monkeypatch.setattr(autoscale, "READ_SECONDS", 0.0)
    return BacklogAutoscaler(Pool(2), max_concurrency=6, min_concurrency=2, keepalive=0.001)


def waiting_activities(count: int) -> None:
    """``count`` activities ready: fan-out instances whose first episode has run."""
    for number in range(count):
        services.start("echo_orchestrator", number)
    drain("orchestrations")


def test_the_pool_grows_by_a_process_per_batch_waiting_up_to_max(scaler):
    waiting_activities(7)
    scaler.maybe_scale()
    assert scaler.pool.num_processes == 4  # Seven activities: four batches of two.

    waiting_activities(10)
    scaler.maybe_scale()
    assert scaler.pool.num_processes == 6  # MAX.


def test_a_backlog_that_cannot_be_read_leaves_the_pool_as_it_is(scaler, monkeypatch):
    waiting_activities(7)
    scaler.maybe_scale()

    def unreachable(queue, now):
        raise OperationalError("the database is away")

    monkeypatch.setattr(autoscale, "waiting_for", unreachable)
    scaler.maybe_scale()

    assert scaler.pool.num_processes == 4


def test_the_pool_shrinks_back_to_min_when_nothing_waits(scaler):
    scaler.pool.num_processes = 6
    scaler._last_scale_up = 0.0  # Long ago: past the keep-alive.

    scaler.maybe_scale()

    assert scaler.pool.num_processes == 2  # MIN.
    assert scaler.qty == 0


def test_the_worker_command_refuses_a_max_below_the_pool_s_size(settings):
    from django.core.management import CommandError, call_command

    settings.PERDURA_WORKERS = "celery"

    with pytest.raises(CommandError, match="--activity-autoscale"):
        call_command("worker", "--activity-concurrency", "4", "--activity-autoscale", "2")
    with pytest.raises(CommandError, match="--pool prefork"):
        call_command("worker", "--activity-autoscale", "8", "--pool", "threads")
