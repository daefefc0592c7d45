from __future__ import annotations

import pytest

import samples.counter  # noqa: F401  (registers the counter entity)
from entities.models import Entity
from orchestrations.access.models import AuditLogEntry
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable

pytestmark = pytest.mark.django_db


def test_three_signals_of_add_5_then_get_prints_15():
    for _ in range(3):
        assert durable("entity", "signal", "counter", "c1", "add", "--input", "5").exit_code == 0
    drain_all()

    outcome = durable("entity", "get", "counter", "c1")

    assert outcome.exit_code == 0
    assert outcome.json() == 15


def test_get_of_an_entity_without_state_exits_1():
    outcome = durable("entity", "get", "counter", "never-signalled")

    assert outcome.exit_code == 1
    assert "does not exist" in outcome.stderr


def test_signal_with_malformed_input_exits_2_and_sends_nothing():
    outcome = durable("entity", "signal", "counter", "c1", "add", "--input", "{five")

    assert outcome.exit_code == 2
    assert "--input is not valid JSON" in outcome.stderr
    assert not Entity.objects.exists()


def test_signal_with_an_invalid_entity_name_exits_2():
    outcome = durable("entity", "signal", "bad@name", "k", "add")

    assert outcome.exit_code == 2
    assert "without '@'" in outcome.stderr


def test_signal_is_audited_as_the_cli_user():
    durable("entity", "signal", "counter", "c1", "reset")

    entry = AuditLogEntry.objects.get()
    assert (entry.source, entry.action, entry.target_id) == ("cli", "signal_entity", "@counter@c1")
    assert entry.actor.startswith("cli:")


def test_list_shows_entities_with_state_by_name():
    durable("entity", "signal", "counter", "a", "add", "--input", "1")
    durable("entity", "signal", "counter", "b", "add", "--input", "2")
    drain_all()

    outcome = durable("entity", "list", "--name", "Counter", "--json")

    assert outcome.exit_code == 0
    assert [(row["key"], row["state"]) for row in outcome.json()] == [("a", 1), ("b", 2)]


def test_list_says_when_nothing_matches():
    outcome = durable("entity", "list", "--name", "nothing")

    assert outcome.exit_code == 0
    assert outcome.stdout.strip() == "No entities match."
