"""The counter sample: Azure's canonical function-style entity (add, reset, get)."""

from __future__ import annotations

import pytest

import samples.counter  # noqa: F401  (registers the counter entity and count_visits)
from entities import services as entities
from orchestrations.engine import EntityId
from orchestrations.worker.loop import drain_all
from tests.entities.helpers import output_of, run_to_end, state_of

pytestmark = pytest.mark.django_db

C1 = EntityId("counter", "c1")


def test_adds_accumulate_from_zero():
    for amount in (5, 5, 5):
        entities.signal(C1, "add", amount)
    drain_all()

    assert state_of(C1) == 15


def test_reset_sets_the_counter_back_to_zero():
    entities.signal(C1, "add", 7)
    entities.signal(C1, "reset")
    entities.signal(C1, "add", 2)
    drain_all()

    assert state_of(C1) == 2


def test_get_answers_the_value_without_changing_it():
    entities.signal(C1, "add", 4)
    drain_all()

    instance = run_to_end("call_entities", [[str(C1), "get", None], [str(C1), "get", None]])

    assert output_of(instance) == [4, 4]
    assert state_of(C1) == 4


def test_get_on_a_new_counter_answers_zero_and_creates_it():
    instance = run_to_end("call_entities", [["@counter@fresh", "get", None]])

    assert output_of(instance) == [0]
    assert state_of(EntityId("counter", "fresh")) == 0


def test_an_unknown_operation_tells_the_caller_which_operations_exist():
    instance = run_to_end("call_entities", [[str(C1), "increment", 1]])

    [failed] = output_of(instance)
    assert failed["error_type"] == "ValueError"
    assert "counter has no operation 'increment'; use add, reset or get" in failed["message"]


def test_counters_with_different_keys_are_independent():
    entities.signal(C1, "add", 1)
    entities.signal(EntityId("counter", "c2"), "add", 10)
    drain_all()

    assert (state_of(C1), state_of(EntityId("counter", "c2"))) == (1, 10)


def test_count_visits_signals_its_adds_then_reads_the_total():
    instance = run_to_end("count_visits", {"counter": "home-page", "visits": 4})

    assert instance.runtime_status == "Completed"
    assert output_of(instance) == 4
