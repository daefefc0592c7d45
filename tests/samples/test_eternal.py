"""Eternal orchestration: session_cleanup continues as new once per cycle until it has run
``cycles`` times."""

from __future__ import annotations

import json

import pytest

from functions.models import Invocation
from orchestrations import services
from orchestrations.engine.events import EventType
from orchestrations.worker.loop import drain_all
from tests.samples import COMPLETION_TIMEOUT


@pytest.mark.django_db
def test_one_cycle_completes_without_continuing_as_new():
    instance_id = services.start("session_cleanup", {"interval_seconds": 3600, "cycles": 1})

    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"cycles": 1, "purged": 1}


@pytest.mark.django_db
def test_a_cycle_sleeps_on_a_timer_before_continuing_as_new():
    instance_id = services.start("session_cleanup", {"interval_seconds": 3600, "cycles": 3})

    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Running"
    assert json.loads(instance.custom_status) == {"cycle": 1, "purged": 1}
    assert EventType.TIMER_CREATED in [row.event_type for row in services.history(instance_id)]


@pytest.mark.slow
def test_session_cleanup_runs_each_cycle_as_a_new_execution(workers):
    instance_id = services.start("session_cleanup", {"interval_seconds": 0.5, "cycles": 3})

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"cycles": 3, "purged": 1 + 2 + 3}
    # One purge per execution: two continue-as-new restarts, three cycles.
    purges = Invocation.objects.filter(instance_id=instance_id, function_name="purge_expired_sessions")
    assert sorted(json.loads(execution.input) for execution in purges) == [1, 2, 3]
    # The history holds the last execution only, which started from the carried-over state.
    history = services.history(instance_id)
    started = [row for row in history if row.event_type == EventType.EXECUTION_STARTED]
    assert len(started) == 1
    assert json.loads(started[0].data) == {"interval_seconds": 0.5, "cycles": 3, "cycle": 3, "purged": 3}
    assert json.loads(instance.input) == {"interval_seconds": 0.5, "cycles": 3, "cycle": 3, "purged": 3}
