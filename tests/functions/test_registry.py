"""The function registry: FunctionApp decorators, unique names, lookups."""

from __future__ import annotations

import pytest

from functions import FunctionApp, FunctionKind, UnknownFunctionError
from functions.registry import DuplicateFunctionError


def test_a_decorated_function_is_registered_under_its_own_name(fresh_registry):
    app = FunctionApp("orders")

    @app.activity
    def charge(order):
        return order

    registered = fresh_registry.get(FunctionKind.ACTIVITY, "charge")
    assert (registered.app_name, registered.name, registered.kind) == ("orders", "charge", FunctionKind.ACTIVITY)
    assert registered.func is charge
    assert registered.module == __name__


def test_a_decorator_with_a_name_registers_under_that_name_and_returns_the_function(fresh_registry):
    app = FunctionApp("orders")

    @app.orchestrator(name="ProcessOrder")
    def process_order(ctx):
        return None

    assert fresh_registry.get(FunctionKind.ORCHESTRATOR, "ProcessOrder").func is process_order
    assert not fresh_registry.has(FunctionKind.ORCHESTRATOR, "process_order")
    assert callable(process_order)


def test_each_kind_has_its_own_names(fresh_registry):
    app = FunctionApp("orders")

    @app.activity(name="order")
    def order_activity(value):
        return value

    @app.orchestrator(name="order")
    def order_orchestrator(ctx):
        return None

    @app.entity(name="order")
    def order_entity(ctx):
        return None

    assert fresh_registry.get(FunctionKind.ACTIVITY, "order").func is order_activity
    assert fresh_registry.get(FunctionKind.ORCHESTRATOR, "order").func is order_orchestrator
    assert fresh_registry.get(FunctionKind.ENTITY, "order").func is order_entity


def test_two_apps_registering_one_name_of_one_kind_is_refused(fresh_registry):
    orders = FunctionApp("orders")
    billing = FunctionApp("billing")

    @orders.activity
    def charge(order):
        return "orders"

    with pytest.raises(
        DuplicateFunctionError, match="activity 'charge' is registered by function apps 'orders' and 'billing'"
    ):

        @billing.activity(name="charge")
        def charge_again(order):
            return "billing"

    assert fresh_registry.get(FunctionKind.ACTIVITY, "charge").func is charge
    assert fresh_registry.names(FunctionKind.ACTIVITY) == ["charge"]


def test_an_app_created_again_under_its_name_replaces_its_functions(fresh_registry):
    first = FunctionApp("orders")

    @first.activity
    def old_activity(value):
        return value

    second = FunctionApp("orders")  # A module imported again.

    @second.activity
    def new_activity(value):
        return value

    assert fresh_registry.names(FunctionKind.ACTIVITY) == ["new_activity"]
    assert fresh_registry.apps == {"orders": second}


def test_looking_up_an_unknown_function_names_the_known_ones(fresh_registry):
    app = FunctionApp("orders")
    app.activity(name="charge")(lambda order: order)
    app.activity(name="ship")(lambda order: order)

    with pytest.raises(UnknownFunctionError) as raised:
        fresh_registry.get(FunctionKind.ACTIVITY, "refund")

    assert str(raised.value) == "no activity named 'refund' is registered (known: charge, ship)"


def test_looking_up_a_kind_with_nothing_registered_says_none(fresh_registry):
    with pytest.raises(UnknownFunctionError, match=r"no entity named 'counter' is registered \(known: none\)"):
        fresh_registry.get(FunctionKind.ENTITY, "counter")


def test_a_function_app_needs_a_non_empty_name(fresh_registry):
    with pytest.raises(ValueError, match="a function app needs a non-empty name"):
        FunctionApp("")


def test_a_function_app_without_a_name_is_named_by_its_module_as_azure_apps_have_no_name(fresh_registry):
    app = FunctionApp()

    assert app.name == __name__
    assert fresh_registry.apps[__name__] is app


def test_a_function_name_too_long_to_store_is_refused_naming_it(fresh_registry):
    app = FunctionApp("orders")

    with pytest.raises(
        ValueError, match=r"the activity name 'aaaa.*' \(in function app 'orders'\) may have at most 200"
    ):
        app.activity(name="a" * 201)(lambda payload: payload)
