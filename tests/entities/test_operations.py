"""entities.engine.run_operation: one operation on one entity's state, with no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from entities.engine import OrchestrationStart, Signal, current_entity, run_operation
from orchestrations.engine import EntityId

COUNTER = EntityId("counter", "c1")
ACCOUNT = EntityId("account", "alice")


def counter(ctx):
    value = ctx.get_state(lambda: 0)
    if ctx.operation_name == "add":
        value += ctx.get_input()
    elif ctx.operation_name == "get":
        ctx.set_result(value)
    elif ctx.operation_name == "fail_after_add":
        ctx.set_state(value + ctx.get_input())
        raise RuntimeError("changed my mind")
    ctx.set_state(value)


class Account:
    def __init__(self):
        self.balance = 0
        self.history = []

    def deposit(self, amount):
        self.balance += amount
        self.history.append(amount)
        return self.balance

    def withdraw(self, amount):
        self.balance -= amount
        if self.balance < 0:
            raise ValueError("insufficient funds")
        return self.balance

    def get(self):
        return self.balance

    def whoami(self):
        return current_entity().entity_key

    def remember_a_set(self):
        self.tags = {"a", "b"}

    def _audit(self):
        return "private"


def state_of(text):
    return json.loads(text) if text is not None else None


# Function-style entities.


def test_a_function_entity_gets_its_operation_and_input_and_sets_its_state():
    outcome = run_operation(counter, COUNTER, "add", "5", "10")

    assert outcome.failure is None
    assert state_of(outcome.state) == 15
    assert outcome.result is None


def test_get_state_uses_the_initializer_for_an_entity_without_state():
    outcome = run_operation(counter, COUNTER, "add", "5", None)

    assert state_of(outcome.state) == 5


def test_get_state_without_an_initializer_is_none_for_a_new_entity():
    seen = []

    def entity(ctx):
        seen.append(ctx.get_state())

    outcome = run_operation(entity, COUNTER, "peek", None, None)

    assert seen == [None]
    assert outcome.state is None


def test_an_entity_that_does_not_set_its_state_keeps_it():
    def entity(ctx):
        ctx.set_result(ctx.get_state() * 2)

    outcome = run_operation(entity, COUNTER, "double", None, "21")

    assert (outcome.state, state_of(outcome.result)) == ("21", 42)


def test_set_result_is_the_operations_result():
    outcome = run_operation(counter, COUNTER, "get", None, "7")

    assert outcome.result == "7"
    assert outcome.state == "7"


def test_the_context_names_the_entity_and_its_key():
    seen = {}

    def entity(ctx):
        seen.update(name=ctx.entity_name, key=ctx.entity_key, operation=ctx.operation_name)

    run_operation(entity, EntityId("Counter", "Home-Page"), "touch", None, None)

    assert seen == {"name": "counter", "key": "Home-Page", "operation": "touch"}


def test_destruct_on_exit_deletes_the_state():
    def entity(ctx):
        ctx.set_state(ctx.get_state() + 1)
        ctx.destruct_on_exit()

    outcome = run_operation(entity, COUNTER, "delete", None, "3")

    assert outcome.failure is None
    assert outcome.state is None


def test_a_failing_operation_leaves_the_state_as_it_was_before_it():
    outcome = run_operation(counter, COUNTER, "fail_after_add", "5", "10")

    assert outcome.state == "10"
    assert outcome.result is None
    assert outcome.failure.error_type == "RuntimeError"
    assert outcome.failure.message == "changed my mind"
    assert "fail_after_add" not in outcome.failure.message
    assert "RuntimeError: changed my mind" in outcome.failure.stack_trace


def test_a_state_that_is_not_json_fails_the_operation_and_keeps_the_old_state():
    def entity(ctx):
        ctx.set_state({"tags": {"a"}})

    outcome = run_operation(entity, COUNTER, "tag", None, '{"tags":[]}')

    assert outcome.state == '{"tags":[]}'
    assert outcome.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert "the state of @counter@c1 is not JSON-serializable" in outcome.failure.message


def test_a_result_that_is_not_json_fails_the_operation_and_keeps_the_old_state():
    def entity(ctx):
        ctx.set_state(99)
        ctx.set_result(datetime(2025, 1, 1, tzinfo=UTC))

    outcome = run_operation(entity, COUNTER, "when", None, "1")

    assert outcome.state == "1"
    assert outcome.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert "the result of @counter@c1.when" in outcome.failure.message


def test_signals_and_orchestration_starts_are_collected_in_order():
    later = datetime(2025, 6, 1, tzinfo=UTC)

    def entity(ctx):
        ctx.signal_entity(EntityId("counter", "total"), "add", 1)
        ctx.start_new_orchestration("Report", {"from": ctx.entity_key}, instance_id="report-c1")
        ctx.signal_entity("@Journal@k", "append", "x", scheduled_time=later)

    outcome = run_operation(entity, COUNTER, "fan_out", None, None)

    assert outcome.signals == [
        Signal("@counter@total", "add", "1"),
        Signal("@journal@k", "append", '"x"', later),
    ]
    assert outcome.orchestrations == [OrchestrationStart("Report", '{"from":"c1"}', "report-c1")]


def test_signals_and_starts_of_a_failing_operation_are_discarded():
    def entity(ctx):
        ctx.signal_entity(EntityId("counter", "total"), "add", 1)
        ctx.start_new_orchestration("Report")
        raise ValueError("nothing was sent")

    outcome = run_operation(entity, COUNTER, "fan_out", None, None)

    assert outcome.failure.message == "nothing was sent"
    assert outcome.signals == []
    assert outcome.orchestrations == []


def test_signalling_a_malformed_entity_id_fails_the_operation():
    def entity(ctx):
        ctx.signal_entity("total", "add", 1)

    outcome = run_operation(entity, COUNTER, "forward", None, "5")

    assert outcome.failure.error_type == "orchestrations.engine.entities.InvalidEntityIdError"
    assert outcome.state == "5"


def test_the_current_entity_is_only_set_while_an_operation_runs():
    run_operation(counter, COUNTER, "add", "1", None)

    with pytest.raises(LookupError):
        current_entity()


# Class-style entities.


def test_a_new_class_entity_starts_from_its_constructor():
    outcome = run_operation(Account, ACCOUNT, "deposit", "30", None)

    assert outcome.failure is None
    assert state_of(outcome.state) == {"balance": 30, "history": [30]}
    assert state_of(outcome.result) == 30


def test_a_class_entity_gets_its_attributes_back_from_the_state():
    outcome = run_operation(Account, ACCOUNT, "deposit", "5", '{"balance":50,"history":[50]}')

    assert state_of(outcome.state) == {"balance": 55, "history": [50, 5]}


def test_a_method_without_a_parameter_is_called_without_the_input():
    outcome = run_operation(Account, ACCOUNT, "get", None, '{"balance":50,"history":[]}')

    assert state_of(outcome.result) == 50


def test_a_class_entity_can_reach_its_context():
    outcome = run_operation(Account, ACCOUNT, "whoami", None, None)

    assert state_of(outcome.result) == "alice"


def test_a_failing_method_leaves_the_class_entitys_state_as_it_was():
    outcome = run_operation(Account, ACCOUNT, "withdraw", "80", '{"balance":50,"history":[]}')

    assert outcome.failure.error_type == "ValueError"
    assert outcome.failure.message == "insufficient funds"
    assert outcome.state == '{"balance":50,"history":[]}'


def test_delete_is_built_in_for_class_entities():
    outcome = run_operation(Account, ACCOUNT, "delete", None, '{"balance":50,"history":[]}')

    assert outcome.failure is None
    assert outcome.state is None


def test_a_class_entitys_own_delete_replaces_the_built_in_one():
    class SoftDeleted:
        def __init__(self):
            self.deleted = False

        def delete(self):
            self.deleted = True

    outcome = run_operation(SoftDeleted, EntityId("soft", "1"), "delete", None, '{"deleted":false}')

    assert state_of(outcome.state) == {"deleted": True}


@pytest.mark.parametrize("operation", ["transfer", "_audit", "__init__", "balance"])
def test_an_operation_the_class_does_not_have_fails_with_unknown_operation(operation):
    outcome = run_operation(Account, ACCOUNT, operation, None, '{"balance":50,"history":[]}')

    assert outcome.failure.error_type == "entities.engine.UnknownOperationError"
    assert outcome.failure.message == f"entity 'account' has no operation {operation!r}"
    assert outcome.state == '{"balance":50,"history":[]}'


def test_an_attribute_that_is_not_json_fails_the_operation():
    outcome = run_operation(Account, ACCOUNT, "remember_a_set", None, '{"balance":1,"history":[]}')

    assert outcome.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert outcome.state == '{"balance":1,"history":[]}'


def test_a_method_result_that_is_not_json_fails_the_operation():
    class Clock:
        def now(self):
            return datetime(2025, 1, 1, tzinfo=UTC)

    outcome = run_operation(Clock, EntityId("clock", "1"), "now", None, None)

    assert outcome.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert outcome.state is None
