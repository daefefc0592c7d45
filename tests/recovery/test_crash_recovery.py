"""A worker process killed with SIGKILL mid-work loses nothing (PostgreSQL, Redis, Celery)."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count

from functions.models import Invocation
from orchestrations import services
from orchestrations.models import HistoryRow, Instance
from samples.hello_sequence import CITIES_5
from tests.conftest import WorkerProcess, is_celery_mode, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]

INSTANCES = 200
LEASE_SECONDS = "3"


@pytest.fixture
def two_workers(transactional_db):
    if not is_celery_mode() or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL, Redis and Celery worker processes (CI's services run)")
    env = {"PERDURA_LEASE_SECONDS": LEASE_SECONDS}
    pool = [WorkerProcess(env).start(), WorkerProcess(env).start()]
    yield pool
    for worker in pool:
        worker.stop()


def test_instances_complete_after_a_worker_is_killed_midway(two_workers, capsys):
    instance_ids = [services.start("hello_sequence5", instance_id=f"crash-{n:03d}") for n in range(INSTANCES)]

    def completed_count() -> int:
        return Instance.objects.filter(runtime_status="Completed").count()

    wait_until(lambda: completed_count() >= INSTANCES // 4, timeout=120, message="a quarter of the instances")
    killed_at = completed_count()
    two_workers[0].kill()
    time.sleep(1)
    two_workers[0] = WorkerProcess({"PERDURA_LEASE_SECONDS": LEASE_SECONDS}).start()

    wait_until(lambda: completed_count() == INSTANCES, timeout=240, interval=0.5, message="every instance")

    expected = [f"Hello {city}!" for city in CITIES_5]
    for instance in Instance.objects.filter(pk__in=instance_ids):
        assert services.parse_json(instance.output, "output") == expected, instance.pk
    _assert_no_duplicated_history(instance_ids)
    ran_twice = (
        Invocation.objects.values("instance_id", "task_id").annotate(runs=Count("id")).filter(runs__gt=1).count()
    )
    with capsys.disabled():
        print(
            f"\ncrash recovery: killed one of two workers after {killed_at}/{INSTANCES} instances completed; "
            f"all {INSTANCES} completed; {ran_twice} of {INSTANCES * len(CITIES_5)} activities ran more than once"
        )


def _assert_no_duplicated_history(instance_ids: list[str]) -> None:
    for instance_id in instance_ids:
        rows = list(HistoryRow.objects.filter(instance_id=instance_id).values_list("event_type", "task_id"))
        scheduled = Counter(task_id for event_type, task_id in rows if event_type == "TaskScheduled")
        completed = Counter(task_id for event_type, task_id in rows if event_type == "TaskCompleted")
        assert sorted(scheduled) == list(range(len(CITIES_5))), instance_id
        assert set(scheduled.values()) == {1}, f"{instance_id} scheduled a task twice: {scheduled}"
        assert set(completed.values()) == {1}, f"{instance_id} recorded a completion twice: {completed}"
        assert sum(1 for event_type, _ in rows if event_type == "ExecutionCompleted") == 1
