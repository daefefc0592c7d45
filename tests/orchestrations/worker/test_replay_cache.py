"""The worker's replay cache: used only while the instance is as this worker left it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orchestrations import services
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all, process_batch
from orchestrations.worker.replay_cache import replay_cache

pytestmark = pytest.mark.django_db


def test_the_next_episode_continues_the_live_replay():
    instance_id = services.start("hello_sequence")
    process_batch("orchestrations")

    [replay] = replay_cache.take_many([Instance.objects.get(pk=instance_id)]).values()

    assert replay.replay is not None
    assert [event.event_type for event in replay.history][-1] == "TaskScheduled"


def test_an_instance_changed_by_someone_else_is_read_again_and_replayed():
    instance_id = services.start("hello_sequence")
    process_batch("orchestrations")
    Instance.objects.filter(pk=instance_id).update(
        updated_at=Instance.objects.get(pk=instance_id).updated_at + timedelta(seconds=1)
    )

    [replay] = replay_cache.take_many([Instance.objects.get(pk=instance_id)]).values()

    assert replay.replay is None
    assert [event.event_type for event in replay.history][:2] == ["OrchestratorStarted", "ExecutionStarted"]


def test_a_replay_is_taken_out_while_in_use():
    instance_id = services.start("hello_sequence")
    process_batch("orchestrations")
    instance = Instance.objects.get(pk=instance_id)

    first = replay_cache.take_many([instance])[instance_id]
    second = replay_cache.take_many([instance])[instance_id]

    assert first.replay is not None
    assert second.replay is None


def test_results_are_the_same_with_the_cache_and_without_it():
    cached = services.start("hello_sequence5")
    drain_all()
    uncached = services.start("hello_sequence5")
    while process_batch("orchestrations") or process_batch("activities"):
        replay_cache._entries.clear()

    assert services.get(cached).output == services.get(uncached).output
    assert services.get(uncached).runtime_status == "Completed"


def test_the_row_as_left_is_offered_only_for_answers_to_every_open_call():
    instance_id = services.start("word_count_report", [{"title": t, "text": "a b"} for t in "xyz"])
    process_batch("orchestrations")  # Three calls open: tasks 0, 1 and 2.

    assert replay_cache.rows_of_sole_answers({instance_id: {0}}) == {}
    assert replay_cache.rows_of_sole_answers({"unknown": {0}}) == {}
    [row] = replay_cache.rows_of_sole_answers({instance_id: {0, 1, 2}}).values()
    assert (row.pk, row.history_length) == (instance_id, Instance.objects.get(pk=instance_id).history_length)
    # A copy: planning from it changes nothing the cache holds.
    row.history_length = 99
    [again] = replay_cache.rows_of_sole_answers({instance_id: {0, 1, 2}}).values()
    assert again.history_length != 99


def test_replays_are_taken_exactly_or_not_at_all():
    first = services.start("hello_sequence", instance_id="first")
    second = services.start("hello_sequence", instance_id="second")
    process_batch("orchestrations")
    rows = replay_cache.rows_of_sole_answers({first: {0}, second: {0}})
    stale = rows[second]
    stale.updated_at -= timedelta(seconds=1)  # As if another episode had been remembered since.

    assert replay_cache.take_exact([rows[first], stale]) is None
    taken = replay_cache.take_exact([rows[first]])
    assert taken is not None and taken[first].replay is not None
    assert replay_cache.take_exact([rows[first]]) is None  # Gone with the first take.
    assert replay_cache.take_many([Instance.objects.get(pk=second)])[second].replay is not None


def test_a_new_instance_has_no_history_to_read():
    instance_id = services.start("hello_sequence")
    instance = Instance.objects.get(pk=instance_id)

    with CaptureQueriesContext(connection) as queries:
        [replay] = replay_cache.take_many([instance]).values()

    assert (replay.history, replay.replay) == ([], None)
    assert len(queries) == 0
