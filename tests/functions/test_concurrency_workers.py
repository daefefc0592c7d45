"""A concurrency limit holds across worker processes: an activity with max_concurrency=2 fanned
out 12 times over four worker processes (in the embedded mode, over the in-process threads) never
runs more than twice at once, and a slot whose worker was SIGKILLed comes back when its lease
ends."""

from __future__ import annotations

import pytest
from django.db import connection

from functions.models import ConcurrencySlot, Invocation
from orchestrations import services
from orchestrations.models import Instance, WorkerHeartbeat
from orchestrations.worker.inprocess import InProcessWorkers
from tests.conftest import WorkerProcess, is_celery_mode, wait_until
from tests.function_apps_concurrency import LIMIT

pytestmark = pytest.mark.slow

CALLS = 12
WORKER_PROCESSES = 4
#: Threads per worker process: together far more than the limit, so that without it more
#: would run at once.
ACTIVITY_THREADS = 3
LEASE_SECONDS = "3"


def light_worker_args(activity_threads: int) -> tuple[str, ...]:
    """A worker process that starts quickly on a busy machine: threads, one of each but activities."""
    args = ("--pool", "threads", "--activity-concurrency", str(activity_threads))
    for option in ("--orchestration-concurrency", "--entity-concurrency", "--trigger-concurrency"):
        args += (option, "1")
    return args


@pytest.fixture
def worker_pool(transactional_db, settings):
    """Four worker processes, each claiming one work item at a time, so that the calls spread
    over them all; in the embedded mode, as many in-process activity threads."""
    if is_celery_mode():
        env = {"PERDURA_BATCH_SIZE": "1", "PERDURA_LEASE_SECONDS": LEASE_SECONDS}
        args = light_worker_args(activity_threads=ACTIVITY_THREADS)
        pool = [WorkerProcess(env, *args).start() for _ in range(WORKER_PROCESSES)]
        # Started, not just spawned: a fan-out over fewer workers would prove little.
        wait_until(lambda: WorkerHeartbeat.objects.count() >= WORKER_PROCESSES, timeout=60, message="four workers")
        yield pool
        for worker in pool:
            worker.stop()
    else:
        settings.PERDURA_BATCH_SIZE = 1
        settings.PERDURA_POLL_SECONDS = 0.05
        workers = InProcessWorkers(activity_threads=WORKER_PROCESSES * ACTIVITY_THREADS)
        workers.start()
        yield workers
        workers.stop()


def most_at_once(activity: str, counter: str, instance_id: str) -> int:
    """Fan ``activity`` out CALLS times; once all have completed, the most that ran at once."""
    # Long enough for the workers to be woken one after another (by the sweepers' polls: a
    # worker wakes a peer only after its batch) while the first calls still run.
    spec = {"activity": activity, "calls": CALLS, "counter": counter, "seconds": 3}
    services.start("concurrency_fan_out", spec, instance_id=instance_id)
    wait_until(
        lambda: services.get(instance_id).runtime_status in ("Completed", "Failed"),
        timeout=120,
        interval=0.2,
        message=f"{instance_id} to finish",
    )
    instance = services.get(instance_id)
    assert instance.runtime_status == "Completed", instance.output
    counts = services.parse_json(instance.output, "output")
    assert len(counts) == CALLS
    return max(counts)


def test_a_limit_of_two_is_never_exceeded_across_worker_processes(worker_pool, tmp_path, capsys):
    # Without the limit the same fan-out runs more than two at once: the check below can fail.
    unlimited = most_at_once("concurrency_unlimited_step", str(tmp_path / "unlimited"), "unlimited")
    assert unlimited > LIMIT

    limited = most_at_once("concurrency_limited_step", str(tmp_path / "limited"), "limited")
    assert limited <= LIMIT
    with capsys.disabled():
        print(
            f"\nmost runs at once of {CALLS} calls: {unlimited} without a limit, {limited} with max_concurrency={LIMIT}"
        )


@pytest.fixture
def one_worker_process(transactional_db):
    if not is_celery_mode() or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL, Redis and Celery worker processes (CI's services run)")
    env = {"PERDURA_LEASE_SECONDS": LEASE_SECONDS}
    worker = WorkerProcess(env, *light_worker_args(activity_threads=1)).start()
    yield worker, env
    worker.stop()


def test_a_slot_held_by_a_killed_worker_comes_back_after_its_lease(one_worker_process, tmp_path):
    worker, env = one_worker_process
    marker = tmp_path / "started"
    instance_id = services.start("concurrency_stall", str(marker), instance_id="stall")
    wait_until(marker.exists, timeout=60, message="the activity to start")
    holder = ConcurrencySlot.objects.get(function_name="concurrency_stalls_once").holder
    assert holder == Invocation.objects.get(function_name="concurrency_stalls_once").worker

    worker.kill()
    replacement = WorkerProcess(env, *light_worker_args(activity_threads=1)).start()
    try:
        # The function's only slot is never released by its dead holder: the call can run
        # again only once that slot's lease has ended.
        wait_until(
            lambda: Instance.objects.filter(pk=instance_id, runtime_status="Completed").exists(),
            timeout=90,
            interval=0.2,
            message="the call to run again on the new worker",
        )
    finally:
        replacement.stop()

    runs = dict(Invocation.objects.filter(function_name="concurrency_stalls_once").values_list("worker", "status"))
    assert runs.pop(holder) == Invocation.Status.ABANDONED
    assert list(runs.values()) == [Invocation.Status.COMPLETED]
    assert ConcurrencySlot.objects.get(function_name="concurrency_stalls_once").holder == ""
