"""Durable timers: a TimerFired message hidden in the inbox until its time."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from orchestrations import services
from orchestrations.models import HistoryRow, Message
from orchestrations.store.wakeups import ORCHESTRATIONS
from orchestrations.worker.loop import drain_all
from orchestrations.worker.sweeper import ready_queues
from tests.orchestrations.helpers import event_types, make_inbox_due

pytestmark = pytest.mark.django_db


def test_a_timer_is_an_invisible_message_until_it_is_due():
    services.start("wait_on_timer", 3600, instance_id="sleeper")
    drain_all()

    created = HistoryRow.objects.get(instance_id="sleeper", event_type="TimerCreated")
    [timer] = Message.objects.filter(instance_id="sleeper")
    assert timer.event_type == "TimerFired"
    assert timer.visible_at.isoformat() == created.details["fire_at"]
    assert timer.visible_at > timezone.now() + timedelta(minutes=59)
    instance = services.get("sleeper")
    assert instance.next_message_at == timer.visible_at
    assert ready_queues() == []
    assert drain_all() == 0
    assert services.get("sleeper").runtime_status == "Running"


def test_a_due_timer_resumes_the_orchestrator():
    services.start("wait_on_timer", 3600, instance_id="sleeper")
    drain_all()

    make_inbox_due("sleeper")
    assert ready_queues() == [ORCHESTRATIONS]
    drain_all()

    instance = services.get("sleeper")
    assert (instance.runtime_status, instance.output) == ("Completed", '"fired"')
    assert event_types("sleeper")[-3:] == ["OrchestratorStarted", "TimerFired", "ExecutionCompleted"]
    assert not Message.objects.exists()


def test_a_short_timer_fires_once_its_time_has_passed():
    services.start("wait_on_timer", 0.2, instance_id="napper")
    drain_all()
    assert services.get("napper").runtime_status == "Running"

    time.sleep(0.25)
    drain_all()

    assert services.get("napper").runtime_status == "Completed"


def test_a_timer_of_zero_seconds_fires_in_the_same_drain():
    services.start("wait_on_timer", 0, instance_id="no-wait")
    drain_all()

    assert services.get("no-wait").runtime_status == "Completed"
