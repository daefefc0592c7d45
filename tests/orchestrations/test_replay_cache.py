"""The worker's replay cache: used only while the instance is as this worker left it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrations import services
from orchestrations.models import Instance
from orchestrations.worker import drain_all, process_batch
from orchestrations.worker.history import replay_cache

pytestmark = pytest.mark.django_db


def test_the_next_episode_continues_the_live_replay():
    instance_id = services.start("hello_sequence")
    process_batch("orchestrations")

    [replay] = replay_cache.take_many([Instance.objects.get(pk=instance_id)]).values()

    assert replay.episode is not None
    assert [event.event_type for event in replay.history][-1] == "TaskScheduled"


def test_an_instance_changed_by_someone_else_is_read_again_and_replayed():
    instance_id = services.start("hello_sequence")
    process_batch("orchestrations")
    Instance.objects.filter(pk=instance_id).update(
        updated_at=Instance.objects.get(pk=instance_id).updated_at + timedelta(seconds=1)
    )

    [replay] = replay_cache.take_many([Instance.objects.get(pk=instance_id)]).values()

    assert replay.episode is None
    assert [event.event_type for event in replay.history][:2] == ["OrchestratorStarted", "ExecutionStarted"]


def test_a_replay_is_taken_out_while_in_use():
    instance_id = services.start("hello_sequence")
    process_batch("orchestrations")
    instance = Instance.objects.get(pk=instance_id)

    first = replay_cache.take_many([instance])[instance_id]
    second = replay_cache.take_many([instance])[instance_id]

    assert first.episode is not None
    assert second.episode is None


def test_results_are_the_same_with_the_cache_and_without_it():
    cached = services.start("hello_sequence5")
    drain_all()
    uncached = services.start("hello_sequence5")
    while process_batch("orchestrations") or process_batch("activities"):
        replay_cache._entries.clear()

    assert services.get(cached).output == services.get(uncached).output
    assert services.get(uncached).runtime_status == "Completed"
