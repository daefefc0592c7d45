"""Q1 at a trivial size: it runs every message and, with a broker, the plain Celery tasks it
compares with. No timing is asserted: timings belong in bench/RESULTS.md."""

from __future__ import annotations

import dataclasses

import pytest

from bench import runner
from functions.models import Invocation, QueuedMessage
from tests.bench.test_runner import TINY, bench_workers  # noqa: F401  (bench_workers: the fixture)
from tests.conftest import is_celery_mode

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("bench_workers")]


def test_a_tiny_q1_run_measures_the_messages_and_the_celery_comparison():
    sizes = dataclasses.replace(TINY, q1_messages=50)

    figures = runner.run_engine_workloads(
        ["Q1"],
        sizes,
        embedded=not is_celery_mode(),
        progress=lambda line: None,
        worker_processes=1 if is_celery_mode() else None,
        pool="prefork",
    )

    queue, *celery = figures
    assert queue.value is not None and queue.value > 0, queue.details
    assert Invocation.objects.filter(function_name="bench_queue_noop", status="Completed").count() == 50
    assert not QueuedMessage.objects.exists()
    if is_celery_mode():
        [plain] = celery
        assert plain.value is not None and plain.value > 0, plain.details
        assert queue.details["ratio_to_celery"] > 0
    else:
        assert celery == []
