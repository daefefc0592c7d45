"""call_entity from an orchestration: results, failures, and an entity that keeps working."""

from __future__ import annotations

import pytest

import samples.bank  # (registers the Account entity)
import samples.counter  # noqa: F401  (registers the counter entity)
from entities import services as entities
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.engine.events import EventType
from orchestrations.models import Message
from orchestrations.worker.loop import drain_all
from tests.entities.helpers import output_of, run_to_end, state_of

pytestmark = pytest.mark.django_db

C1 = "@counter@c1"
ALICE = EntityId("account", "alice")


def test_call_entity_returns_the_operations_result():
    instance = run_to_end("call_entities", [[C1, "add", 5], [C1, "add", 10], [C1, "get", None]])

    assert instance.runtime_status == "Completed"
    assert output_of(instance) == [None, None, 15]
    calls = [row for row in services.history(instance.pk) if row.event_type == EventType.ENTITY_OPERATION_CALLED]
    assert [(row.name, row.details["entity_id"]) for row in calls] == [("add", C1), ("add", C1), ("get", C1)]


def test_a_class_entitys_method_result_is_the_call_result():
    instance = run_to_end("call_entities", [[str(ALICE), "deposit", 40], [str(ALICE), "withdraw", 15]])

    assert output_of(instance) == [40, 25]
    assert state_of(ALICE) == {"balance": 25}


def test_an_unknown_operation_fails_the_call_and_the_entity_keeps_its_state_and_works_on():
    entities.signal(ALICE, "deposit", 50)
    drain_all()

    instance = run_to_end(
        "call_entities", [[str(ALICE), "transfer", 10], [str(ALICE), "deposit", 5], [str(ALICE), "get", None]]
    )

    failed, deposited, balance = output_of(instance)
    assert failed["error_type"] == "entities.engine.UnknownOperationError"
    assert "entity 'account' has no operation 'transfer'" in failed["message"]
    assert (deposited, balance) == (55, 55)
    assert state_of(ALICE) == {"balance": 55}


def test_an_operation_that_raises_fails_the_call_and_leaves_the_state():
    entities.signal(ALICE, "deposit", 10)
    drain_all()

    instance = run_to_end("call_entities", [[str(ALICE), "withdraw", 30], [str(ALICE), "get", None]])

    failed, balance = output_of(instance)
    assert failed["error_type"] == "samples.bank.InsufficientFundsError"
    assert "cannot withdraw 30 from a balance of 10" in failed["message"]
    assert balance == 10


def test_an_uncaught_entity_failure_fails_the_orchestration():
    instance = run_to_end("call_entity_by_name", {"entity": str(ALICE), "operation": "withdraw", "input": 5})

    assert instance.runtime_status == "Failed"
    assert instance.failure["error_type"] == "orchestrations.engine.failures.TaskFailedError"
    assert "cannot withdraw 5 from a balance of 0" in instance.failure["message"]


def test_calling_an_entity_nobody_registered_fails_the_call_clearly():
    instance = run_to_end("call_entities", [["@nosuch@k", "get", None]])

    [failed] = output_of(instance)
    assert failed["error_type"] == "functions.registry.UnknownFunctionError"
    assert "no entity named 'nosuch' is registered" in failed["message"]
    assert not Message.objects.filter(instance_id="@nosuch@k").exists()


def test_a_call_is_answered_once_into_the_callers_history():
    instance = run_to_end("call_entities", [[C1, "add", 1]])

    [answered] = [
        row for row in services.history(instance.pk) if row.event_type == EventType.ENTITY_OPERATION_COMPLETED
    ]
    assert answered.task_id == 0
    assert not Message.objects.exists()
