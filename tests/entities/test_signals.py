"""Signals: operations sent to an entity without waiting, from clients, orchestrations and
other entities; their order, their schedule and their failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

import samples.counter  # noqa: F401  (registers the counter entity)
from entities import services as entities
from entities.models import Entity
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.models import Message
from orchestrations.worker.loop import drain_all
from tests.entities.helpers import make_entity_inbox_due, output_of, run_to_end, state_of

pytestmark = pytest.mark.django_db

C1 = EntityId("counter", "c1")
JOURNAL = EntityId("journal", "j1")


def test_three_signals_of_add_5_then_get_give_15():
    for _ in range(3):
        entities.signal(C1, "add", 5)
    drain_all()

    assert state_of(C1) == 15
    assert not Message.objects.filter(instance_id=str(C1)).exists()


def test_the_first_signal_creates_the_entity():
    entities.signal(EntityId("Counter", "New-Key"), "add", 2)

    row = Entity.objects.get(pk="@counter@New-Key")
    assert (row.name, row.key, row.state) == ("counter", "New-Key", None)

    drain_all()

    assert state_of(EntityId("counter", "New-Key")) == 2
    assert Entity.objects.get(pk="@counter@New-Key").last_operation_at is not None


def test_a_signal_needs_an_operation_name():
    with pytest.raises(entities.BadInputError):
        entities.signal(C1, " ", 5)


def test_a_signal_input_must_be_json():
    with pytest.raises(entities.BadInputError):
        entities.signal(C1, "add", {1, 2})


def test_signals_from_one_client_run_in_the_order_sent():
    for value in range(20):
        entities.signal(JOURNAL, "append", value)
    drain_all()

    assert state_of(JOURNAL) == list(range(20))


def test_signals_from_one_orchestration_run_in_the_order_sent():
    operations = [[str(JOURNAL), "append", value] for value in ["a", "b", "c", "d", "e"]]

    run_to_end("signal_entities", operations)

    assert state_of(JOURNAL) == ["a", "b", "c", "d", "e"]


def test_two_interleaved_senders_each_keep_their_own_order():
    first = services.start("signal_in_steps", {"entity": str(JOURNAL), "operation": "append", "values": [1, 2, 3, 4]})
    second = services.start(
        "signal_in_steps", {"entity": str(JOURNAL), "operation": "append", "values": ["a", "b", "c", "d"]}
    )
    drain_all()

    assert services.get(first).runtime_status == services.get(second).runtime_status == "Completed"
    entries = state_of(JOURNAL)
    assert sorted(map(str, entries)) == ["1", "2", "3", "4", "a", "b", "c", "d"]
    assert [entry for entry in entries if isinstance(entry, int)] == [1, 2, 3, 4]
    assert [entry for entry in entries if isinstance(entry, str)] == ["a", "b", "c", "d"]
    # The two senders' signals did interleave, so the order above was not a given.
    assert entries != [1, 2, 3, 4, "a", "b", "c", "d"] and entries != ["a", "b", "c", "d", 1, 2, 3, 4]


def test_a_failing_signal_leaves_the_state_and_the_next_signals_still_run():
    entities.signal(C1, "add", 5)
    entities.signal(C1, "multiply", 3)
    entities.signal(C1, "add", "not a number")
    entities.signal(C1, "add", 1)
    drain_all()

    assert state_of(C1) == 6
    assert not Message.objects.filter(instance_id=str(C1)).exists()


def test_a_signal_to_an_entity_nobody_registered_is_dropped_without_state():
    entities.signal(EntityId("nosuch", "k"), "add", 1)
    drain_all()

    with pytest.raises(entities.EntityNotFoundError):
        entities.get(EntityId("nosuch", "k"))
    assert not Message.objects.filter(instance_id="@nosuch@k").exists()


def test_a_scheduled_signal_waits_until_it_is_due():
    entities.signal(C1, "add", 5, scheduled_time=timezone.now() + timedelta(hours=1))
    drain_all()

    with pytest.raises(entities.EntityNotFoundError):
        entities.get(C1)
    assert Message.objects.filter(instance_id=str(C1)).count() == 1

    make_entity_inbox_due(C1)
    drain_all()

    assert state_of(C1) == 5


def test_a_signal_scheduled_in_the_past_runs_at_once():
    entities.signal(C1, "add", 5, scheduled_time=timezone.now() - timedelta(hours=1))
    drain_all()

    assert state_of(C1) == 5


def test_a_scheduled_signal_from_an_orchestration_waits_until_it_is_due():
    instance = run_to_end("signal_entities", [[str(C1), "add", 4], [str(C1), "add", 10, 3600]])

    assert instance.runtime_status == "Completed"
    assert state_of(C1) == 4
    [waiting] = Message.objects.filter(instance_id=str(C1))
    assert waiting.visible_at > timezone.now() + timedelta(minutes=59)

    make_entity_inbox_due(C1)
    drain_all()

    assert state_of(C1) == 14


def test_a_scheduled_signal_from_an_entity_waits_until_it_is_due():
    courier = EntityId("courier", "x")
    entities.signal(courier, "signal", {"entity": str(C1), "operation": "add", "input": 4})
    entities.signal(courier, "signal", {"entity": str(C1), "operation": "add", "input": 10, "delay_seconds": 3600})
    drain_all()

    assert state_of(C1) == 4
    make_entity_inbox_due(C1)
    drain_all()
    assert state_of(C1) == 14


def test_an_entity_signals_another_entity():
    entities.signal(EntityId("courier", "x"), "signal", {"entity": str(C1), "operation": "add", "input": 7})
    drain_all()

    assert state_of(C1) == 7
    assert state_of(EntityId("courier", "x")) == 1
    assert Entity.objects.get(pk=str(C1)).last_operation_at is not None


def test_an_entity_starts_an_orchestration():
    entities.signal(
        EntityId("courier", "x"),
        "start",
        {"orchestrator": "echo_orchestrator", "input": "from an entity", "instance_id": "started-by-courier"},
    )
    drain_all()

    instance = services.get("started-by-courier")
    assert instance.runtime_status == "Completed"
    assert output_of(instance) == "from an entity"


def test_an_entity_that_cannot_start_its_orchestration_keeps_its_state_change():
    entities.signal(EntityId("courier", "x"), "start", {"orchestrator": "no_such_orchestrator"})
    drain_all()

    assert state_of(EntityId("courier", "x")) == 1
    assert not services.query().instances


def test_an_orchestration_signals_an_entity_and_completes_without_waiting():
    instance = run_to_end("signal_entities", [[str(C1), "add", 5], [str(C1), "add", 6]])

    assert instance.runtime_status == "Completed"
    assert state_of(C1) == 11


def test_the_count_visits_sample_reads_the_counter_after_its_own_adds():
    entities.signal(EntityId("counter", "home-page"), "add", 100)
    drain_all()

    instance = run_to_end("count_visits", {"counter": "home-page", "visits": 3})

    assert output_of(instance) == 103
    assert state_of(EntityId("counter", "home-page")) == 103
