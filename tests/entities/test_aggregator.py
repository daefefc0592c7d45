"""The aggregator sample: an entity keeping a running count, sum, min, max and mean."""

from __future__ import annotations

import pytest

import samples.aggregator  # noqa: F401  (registers the aggregator entity and record_readings)
from entities import services as entities
from orchestrations.engine import EntityId
from orchestrations.worker.loop import drain_all
from tests.entities.helpers import output_of, run_to_end, state_of

pytestmark = pytest.mark.django_db

SENSOR = EntityId("aggregator", "sensor-7")


def test_signalled_values_build_the_running_summary():
    for value in (21.5, 19.0, 23.5):
        entities.signal(SENSOR, "add", value)
    drain_all()

    assert state_of(SENSOR) == {"count": 3, "sum": 64.0, "min": 19.0, "max": 23.5}


def test_get_answers_the_summary_with_its_mean():
    instance = run_to_end("record_readings", {"stream": "sensor-7", "readings": [4, 8, 0, 12]})

    assert instance.runtime_status == "Completed"
    assert output_of(instance) == {"count": 4, "sum": 24, "min": 0, "max": 12, "mean": 6.0}


def test_the_summary_goes_on_across_batches_of_readings():
    run_to_end("record_readings", {"stream": "sensor-7", "readings": [10, 20]})

    instance = run_to_end("record_readings", {"stream": "sensor-7", "readings": [-5]})

    assert output_of(instance) == {"count": 3, "sum": 25, "min": -5, "max": 20, "mean": 25 / 3}


def test_an_empty_stream_has_no_mean():
    instance = run_to_end("record_readings", {"stream": "quiet", "readings": []})

    assert output_of(instance) == {"count": 0, "sum": 0, "min": None, "max": None, "mean": None}


def test_a_value_that_is_not_a_number_is_refused_and_the_summary_is_unchanged():
    entities.signal(SENSOR, "add", 3)
    drain_all()

    instance = run_to_end("call_entities", [[str(SENSOR), "add", "warm"], [str(SENSOR), "add", True]])

    assert [result["error_type"] for result in output_of(instance)] == ["TypeError", "TypeError"]
    assert "aggregator adds numbers, not 'warm'" in output_of(instance)[0]["message"]
    assert state_of(SENSOR) == {"count": 1, "sum": 3, "min": 3, "max": 3}


def test_reset_empties_the_summary():
    entities.signal(SENSOR, "add", 3)
    entities.signal(SENSOR, "reset")
    drain_all()

    assert state_of(SENSOR) == {"count": 0, "sum": 0, "min": None, "max": None}


def test_streams_are_summarized_separately():
    run_to_end("record_readings", {"stream": "north", "readings": [1, 2]})
    run_to_end("record_readings", {"stream": "south", "readings": [100]})

    assert state_of(EntityId("aggregator", "north"))["count"] == 2
    assert state_of(EntityId("aggregator", "south"))["sum"] == 100
