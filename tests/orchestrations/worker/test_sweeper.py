"""sweeper.ready_queues and beat: what the sweeper sees as ready, and worker heartbeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orchestrations import services
from orchestrations.models import Instance, WorkerHeartbeat, WorkItem
from orchestrations.store.claims import claim_instances, claim_work_items
from orchestrations.store.wakeups import ACTIVITIES, ORCHESTRATIONS
from orchestrations.worker.loop import drain_all
from orchestrations.worker.sweeper import beat, ready_queues
from tests.orchestrations.helpers import make_inbox_due, run_orchestrations

pytestmark = pytest.mark.django_db


def past() -> object:
    return timezone.now() - timedelta(seconds=1)


def test_nothing_is_ready_in_an_empty_database():
    assert ready_queues() == []


def test_a_new_instance_makes_the_orchestration_queue_ready():
    services.start("echo_orchestrator", 1)

    assert ready_queues() == [ORCHESTRATIONS]


def test_a_waiting_work_item_makes_the_activity_queue_ready():
    services.start("echo_orchestrator", 1)
    run_orchestrations()

    assert ready_queues() == [ACTIVITIES]


def test_leased_work_is_not_ready_until_its_lease_expires():
    services.start("echo_orchestrator", 1, instance_id="leased")
    claim_instances("worker-a", 10)
    assert ready_queues() == []

    Instance.objects.filter(pk="leased").update(lease_expires_at=past())

    assert ready_queues() == [ORCHESTRATIONS]


def test_a_leased_work_item_is_not_ready_until_its_lease_expires():
    services.start("echo_orchestrator", 1)
    run_orchestrations()
    claim_work_items("worker-a", 10)
    assert ready_queues() == []

    WorkItem.objects.update(lease_expires_at=past())

    assert ready_queues() == [ACTIVITIES]


def test_a_timer_is_ready_once_due():
    services.start("wait_on_timer", 3600, instance_id="sleeper")
    drain_all()
    assert ready_queues() == []

    make_inbox_due("sleeper")

    assert ready_queues() == [ORCHESTRATIONS]


def test_both_queues_can_be_ready_at_once():
    services.start("echo_orchestrator", 1)
    run_orchestrations()
    services.start("echo_orchestrator", 2)

    assert ready_queues() == [ORCHESTRATIONS, ACTIVITIES]


def test_a_heartbeat_records_the_worker_and_updates_it_in_place():
    beat("host:1", "inprocess", {ORCHESTRATIONS: 1, ACTIVITIES: 4})
    first = WorkerHeartbeat.objects.get(worker_id="host:1")

    beat("host:1", "inprocess", {ORCHESTRATIONS: 2, ACTIVITIES: 4})

    second = WorkerHeartbeat.objects.get(worker_id="host:1")
    assert second.mode == "inprocess"
    assert second.queues == {ORCHESTRATIONS: 2, ACTIVITIES: 4}
    assert second.last_seen >= first.last_seen
    assert WorkerHeartbeat.objects.count() == 1
