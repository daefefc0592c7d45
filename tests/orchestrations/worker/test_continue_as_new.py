"""continue_as_new in storage: a fresh history and execution, and stale answers dropped."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.engine import events as ev
from orchestrations.models import HistoryRow, Message
from orchestrations.store.inbox import deliver
from orchestrations.store.wakeups import ORCHESTRATIONS
from orchestrations.worker.loop import drain_all, process_batch
from tests.orchestrations.helpers import event_types, make_inbox_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting_generation_zero():
    services.start("continue_on_event", 0, instance_id="eternal")
    drain_all()
    return services.get("eternal")


def test_continue_as_new_resets_the_history_under_a_new_execution_id(waiting_generation_zero):
    services.raise_event("eternal", "next", "again")
    drain_all()

    instance = services.get("eternal")
    assert instance.execution_id != waiting_generation_zero.execution_id
    assert instance.input == "1"
    history = HistoryRow.objects.filter(instance_id="eternal").order_by("sequence")
    assert [row.sequence for row in history] == list(range(len(history)))
    assert {row.execution_id for row in history} == {instance.execution_id}
    assert "EventRaised" not in event_types("eternal")
    started = history.get(event_type="ExecutionStarted")
    assert started.data == "1"


def test_continue_as_new_is_continued_as_new_until_the_next_execution_starts(waiting_generation_zero):
    services.raise_event("eternal", "next", "again")
    process_batch(ORCHESTRATIONS)  # One episode: the one that continues as new.

    assert services.get("eternal").runtime_status == "ContinuedAsNew"
    assert not HistoryRow.objects.filter(instance_id="eternal").exists()
    [started] = Message.objects.filter(instance_id="eternal", event_type="ExecutionStarted")
    assert started.event["data"] == "1"


def test_the_next_execution_is_running_while_it_waits(waiting_generation_zero):
    services.raise_event("eternal", "next", "again")
    drain_all()

    assert services.get("eternal").runtime_status == "Running"


def test_the_next_execution_completes(waiting_generation_zero):
    services.raise_event("eternal", "next", "again")
    drain_all()
    services.raise_event("eternal", "next", "stop")
    drain_all()

    instance = services.get("eternal")
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"generation": 1, "ended_by": "event"}


def test_a_timer_of_the_previous_execution_is_dropped_when_it_fires(waiting_generation_zero):
    services.raise_event("eternal", "next", "again")
    drain_all()
    current = services.get("eternal").execution_id
    timers = Message.objects.filter(instance_id="eternal", event_type="TimerFired")
    assert {timer.execution_id for timer in timers} == {waiting_generation_zero.execution_id, current}

    make_inbox_due("eternal")  # Both timers come due: the stale one of generation 0 and the current one.
    drain_all()

    instance = services.get("eternal")
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"generation": 1, "ended_by": "timer"}
    assert event_types("eternal").count("TimerFired") == 1
    assert not Message.objects.filter(instance_id="eternal").exists()


def test_an_answer_for_the_previous_execution_is_not_delivered(waiting_generation_zero):
    services.raise_event("eternal", "next", "again")
    drain_all()

    stale = ev.task_completed(waiting_generation_zero.created_at, 0, '"late"')
    delivered = deliver([Message.for_event("eternal", stale, execution_id=waiting_generation_zero.execution_id)])

    assert delivered == 0
    assert not Message.objects.filter(instance_id="eternal", event_type="TaskCompleted").exists()
