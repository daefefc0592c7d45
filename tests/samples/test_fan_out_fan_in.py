"""Fan-out/fan-in: word_count_report counts every document in parallel and sums the counts."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.engine.events import EventType
from orchestrations.worker.loop import drain_all
from tests.samples import COMPLETION_TIMEOUT

DOCUMENTS = [
    {"title": "haiku", "text": "an old silent pond a frog jumps into the pond splash silence again"},
    {"title": "motto", "text": "make it work make it right make it fast"},
    {"title": "empty", "text": ""},
    {"title": "greeting", "text": "hello world"},
]
EXPECTED = {
    "documents": 4,
    "total_words": 13 + 9 + 0 + 2,
    "words_per_document": {"haiku": 13, "motto": 9, "empty": 0, "greeting": 2},
}


@pytest.mark.django_db
def test_every_document_is_scheduled_in_the_first_episode():
    instance_id = services.start("word_count_report", DOCUMENTS)

    drain_all()

    history = services.history(instance_id)
    first_completion = next(i for i, row in enumerate(history) if row.event_type == EventType.TASK_COMPLETED)
    scheduled_before = [row for row in history[:first_completion] if row.event_type == EventType.TASK_SCHEDULED]
    assert len(scheduled_before) == len(DOCUMENTS)
    assert json.loads(services.get(instance_id).output) == EXPECTED


@pytest.mark.django_db
def test_an_empty_batch_completes_at_once_with_nothing_counted():
    instance_id = services.start("word_count_report", [])

    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"documents": 0, "total_words": 0, "words_per_document": {}}


@pytest.mark.slow
def test_word_count_report_aggregates_parallel_counts_with_background_workers(workers):
    instance_id = services.start("word_count_report", DOCUMENTS)

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == EXPECTED
