"""Claiming work with leases: a leased item is not claimed twice, an expired lease is taken
over, and a worker that lost its lease commits nothing."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from functions.activities import run_activity
from functions.models import Invocation
from orchestrations import services
from orchestrations.models import HistoryRow, Instance, Message, WorkItem
from orchestrations.store.claims import claim_work_items
from orchestrations.store.leases import LeaseLostError
from orchestrations.worker import episodes
from orchestrations.worker.activities import LeaseKeeper, complete_work_items
from orchestrations.worker.episodes import (
    EpisodePlan,
    claim_instances,
    commit_episodes,
    process_orchestrations,
    run_claimed,
)
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import run_orchestrations

pytestmark = pytest.mark.django_db


def expire_instance_lease(instance_id: str) -> None:
    Instance.objects.filter(pk=instance_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def expire_work_item_leases() -> None:
    WorkItem.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def work_item():
    """An echo activity call waiting for an activity worker."""
    instance_id = services.start("echo_orchestrator", "hello", instance_id="caller")
    run_orchestrations()
    return WorkItem.objects.get(instance_id=instance_id)


# Instances.


def test_claiming_an_instance_leases_it_to_the_worker(settings):
    settings.PERDURA_LEASE_SECONDS = 30
    instance_id = services.start("echo_orchestrator", 1)

    assert claim_instances("worker-a", 10) == [instance_id]

    instance = services.get(instance_id)
    assert instance.lease_owner == "worker-a"
    remaining = instance.lease_expires_at - timezone.now()
    assert timedelta(seconds=25) < remaining <= timedelta(seconds=30)


def test_a_leased_instance_is_not_claimed_by_another_worker():
    instance_id = services.start("echo_orchestrator", 1)
    claim_instances("worker-a", 10)

    assert claim_instances("worker-b", 10) == []
    assert services.get(instance_id).lease_owner == "worker-a"


def test_an_instance_whose_lease_expired_is_claimed_by_another_worker():
    instance_id = services.start("echo_orchestrator", 1)
    claim_instances("worker-a", 10)
    expire_instance_lease(instance_id)

    assert claim_instances("worker-b", 10) == [instance_id]
    assert services.get(instance_id).lease_owner == "worker-b"


def test_claiming_takes_at_most_the_limit():
    for _ in range(3):
        services.start("echo_orchestrator", 1)

    assert len(claim_instances("worker-a", 2)) == 2
    assert len(claim_instances("worker-b", 2)) == 1


def test_an_instance_with_nothing_due_is_not_claimed():
    services.start("wait_on_timer", 3600)
    drain_all()

    assert claim_instances("worker-a", 10) == []


def test_a_checkpoint_releases_the_lease():
    instance_id = services.start("echo_orchestrator", 1)
    claim_instances("worker-a", 10)

    run_claimed([instance_id], "worker-a")

    instance = services.get(instance_id)
    assert (instance.lease_owner, instance.lease_expires_at) == (None, None)
    assert instance.runtime_status == "Running"


def test_an_episode_by_a_worker_that_lost_its_lease_is_refused_and_commits_nothing(caplog):
    instance_id = services.start("echo_orchestrator", 1)
    claim_instances("worker-a", 10)
    Instance.objects.filter(pk=instance_id).update(lease_owner="worker-b")

    run_claimed([instance_id], "worker-a")

    assert f"lost the lease on {instance_id}" in caplog.text
    assert_untouched(instance_id, lease_owner="worker-b")


def test_a_checkpoint_after_the_lease_was_taken_over_mid_episode_commits_nothing():
    instance_id = services.start("echo_orchestrator", 1)
    claim_instances("worker-a", 10)
    episode = EpisodePlan(Instance.objects.get(pk=instance_id), timezone.now())
    episode.consume(list(Message.objects.filter(instance_id=instance_id)))
    assert episode.work_items and episode.history  # The episode did decide to do something.
    expire_instance_lease(instance_id)
    claim_instances("worker-b", 10)

    with pytest.raises(LeaseLostError):
        commit_episodes([episode], "worker-a")

    assert_untouched(instance_id, lease_owner="worker-b")


def test_a_checkpoint_whose_messages_another_worker_consumed_commits_nothing():
    instance_id = services.start("echo_orchestrator", 1)
    claim_instances("worker-a", 10)
    episode = EpisodePlan(Instance.objects.get(pk=instance_id), timezone.now())
    episode.consume(list(Message.objects.filter(instance_id=instance_id)))
    Message.objects.filter(instance_id=instance_id).delete()

    with pytest.raises(LeaseLostError):
        commit_episodes([episode], "worker-a")

    assert not HistoryRow.objects.exists()
    assert not WorkItem.objects.exists()
    assert services.get(instance_id).runtime_status == "Pending"


def test_the_worker_loop_carries_on_after_losing_a_lease(monkeypatch, caplog):
    lost = services.start("echo_orchestrator", 1, instance_id="lost")
    kept = services.start("echo_orchestrator", 2, instance_id="kept")

    def claim_then_lose_one(worker_id, limit):
        claimed = claim_instances(worker_id, limit)
        Instance.objects.filter(pk=lost).update(lease_owner="someone-else")
        return claimed

    monkeypatch.setattr(episodes, "claim_instances", claim_then_lose_one)

    assert process_orchestrations("worker-a", 10) == 2

    assert services.get(lost).runtime_status == "Pending"
    assert services.get(kept).runtime_status == "Running"
    assert "lost the lease on lost" in caplog.text


def test_an_episode_that_raises_is_retried_later_rather_than_at_once(monkeypatch, settings):
    instance_id = services.start("echo_orchestrator", 1)

    def broken_checkpoint(plans, worker_id):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(episodes, "commit_episodes", broken_checkpoint)

    assert process_orchestrations("worker-a", 10) == 1

    instance = services.get(instance_id)
    assert instance.lease_owner == "worker-a"
    remaining = instance.lease_expires_at - timezone.now()
    assert timedelta(seconds=episodes.RETRY_SECONDS - 1) < remaining <= timedelta(seconds=episodes.RETRY_SECONDS)
    assert claim_instances("worker-b", 10) == []


def assert_untouched(instance_id: str, *, lease_owner: str) -> None:
    instance = services.get(instance_id)
    assert instance.runtime_status == "Pending"
    assert instance.history_length == 0
    assert instance.lease_owner == lease_owner
    assert not HistoryRow.objects.filter(instance_id=instance_id).exists()
    assert not WorkItem.objects.filter(instance_id=instance_id).exists()
    assert Message.objects.filter(instance_id=instance_id, event_type="ExecutionStarted").count() == 1


# Activity work items.


def test_claiming_a_work_item_leases_it_and_records_a_running_execution(work_item):
    [run] = claim_work_items("worker-a", 10)
    item, execution = run.item, run.execution

    assert item.pk == work_item.pk
    work_item.refresh_from_db()
    assert (work_item.lease_owner, work_item.deliveries) == ("worker-a", 1)
    assert work_item.lease_expires_at > timezone.now()
    execution = Invocation.objects.get(pk=execution.pk)
    assert (execution.status, execution.attempt, execution.worker) == ("Running", 1, "worker-a")
    assert (execution.function_name, execution.instance_id, execution.task_id) == ("echo", "caller", 0)
    assert (execution.input, execution.ended_at) == ('"hello"', None)


def test_a_leased_work_item_is_not_claimed_by_another_worker(work_item):
    claim_work_items("worker-a", 10)

    assert claim_work_items("worker-b", 10) == []
    assert Invocation.objects.count() == 1


def test_a_work_item_whose_lease_expired_is_claimed_again_and_the_earlier_run_abandoned(work_item):
    [first] = claim_work_items("worker-a", 10)
    first_run = first.execution
    expire_work_item_leases()

    [second] = claim_work_items("worker-b", 10)
    second_run = second.execution

    work_item.refresh_from_db()
    assert (work_item.lease_owner, work_item.deliveries) == ("worker-b", 2)
    first_run = Invocation.objects.get(pk=first_run.pk)
    assert first_run.status == "Abandoned"
    assert first_run.ended_at is not None
    second_run = Invocation.objects.get(pk=second_run.pk)
    assert (second_run.status, second_run.attempt, second_run.worker) == ("Running", 2, "worker-b")


def test_a_result_reported_after_the_lease_was_taken_over_is_dropped(work_item):
    claimed_by_a = claim_work_items("worker-a", 10)
    expire_work_item_leases()
    claimed_by_b = claim_work_items("worker-b", 10)

    complete_work_items(claimed_by_a, [run_activity("echo", '"from a"')], "worker-a")

    assert not Message.objects.filter(instance_id="caller", event_type="TaskCompleted").exists()
    assert WorkItem.objects.filter(pk=work_item.pk).exists()
    complete_work_items(claimed_by_b, [run_activity("echo", '"from b"')], "worker-b")
    [result] = Message.objects.filter(instance_id="caller", event_type="TaskCompleted")
    assert result.event["data"] == '"from b"'
    assert not WorkItem.objects.exists()
    drain_all()
    assert json.loads(services.get("caller").output) == "from b"


def test_completing_a_work_item_sends_the_result_to_the_calling_execution(work_item):
    claimed = claim_work_items("worker-a", 10)

    complete_work_items(claimed, [run_activity("echo", work_item.input)], "worker-a")

    [result] = Message.objects.filter(instance_id="caller")
    assert (result.event_type, result.execution_id) == ("TaskCompleted", services.get("caller").execution_id)
    assert result.event["task_id"] == 0
    execution = Invocation.objects.get()
    assert (execution.status, execution.output) == ("Completed", '"hello"')


@pytest.mark.django_db(transaction=True)
def test_a_running_activity_keeps_its_lease_past_the_lease_time(settings):
    # A committed work item and a short lease: the keeper thread renews it on its own connection.
    settings.PERDURA_LEASE_SECONDS = 0.3
    services.start("echo_orchestrator", 1, instance_id="slow")
    run_orchestrations()
    [run] = claim_work_items("worker-a", 10)
    item = run.item
    first_expiry = WorkItem.objects.get(pk=item.pk).lease_expires_at

    with LeaseKeeper([item.pk], "worker-a"):
        time.sleep(0.5)  # Longer than the lease.
        renewed_expiry = WorkItem.objects.get(pk=item.pk).lease_expires_at
        assert claim_work_items("worker-b", 10) == []

    assert renewed_expiry > first_expiry
    assert renewed_expiry > timezone.now()
