"""sync_registry: the AppRecord and Function rows mirror the registry."""

from __future__ import annotations

import pytest

from functions import FunctionApp
from functions.models import AppRecord as FunctionAppRow
from functions.models import Function
from functions.services import sync_registry

pytestmark = pytest.mark.django_db


def rows() -> set[tuple[str, str, str, str, bool]]:
    return {
        (function.app.name, function.kind, function.name, function.module, function.is_registered)
        for function in Function.objects.select_related("app")
    }


def test_sync_registry_writes_a_row_per_app_and_per_function(fresh_registry):
    app = FunctionApp("orders")
    app.activity(name="charge")(lambda order: order)
    app.orchestrator(name="process_order")(lambda ctx: None)

    sync_registry()

    assert rows() >= {
        ("orders", "activity", "charge", __name__, True),
        ("orders", "orchestrator", "process_order", __name__, True),
    }
    assert FunctionAppRow.objects.get(name="orders").modules == [__name__]


def test_sync_registry_marks_functions_no_longer_registered_and_keeps_their_rows(fresh_registry):
    app = FunctionApp("orders")
    app.activity(name="charge")(lambda order: order)
    app.activity(name="refund")(lambda order: order)
    sync_registry()

    app = FunctionApp("orders")  # The module changed: refund is gone.
    app.activity(name="charge")(lambda order: order)
    sync_registry()

    assert Function.objects.get(kind="activity", name="charge").is_registered
    assert not Function.objects.get(kind="activity", name="refund").is_registered


def test_sync_registry_registers_a_function_again_when_it_comes_back(fresh_registry):
    app = FunctionApp("orders")
    sync_registry()
    app.activity(name="charge")(lambda order: order)
    Function.objects.filter(name="charge").update(is_registered=False)

    sync_registry()

    assert Function.objects.get(kind="activity", name="charge").is_registered


def test_sync_registry_moves_a_function_to_the_app_that_now_registers_it(fresh_registry):
    FunctionApp("orders").activity(name="charge")(lambda order: order)
    sync_registry()

    FunctionApp("orders")  # charge left orders...
    FunctionApp("billing").activity(name="charge")(lambda order: order)  # ...for billing.
    sync_registry()

    function = Function.objects.get(kind="activity", name="charge")
    assert (function.app.name, function.is_registered) == ("billing", True)
    assert Function.objects.filter(kind="activity", name="charge").count() == 1


def test_sync_registry_is_idempotent(fresh_registry):
    FunctionApp("orders").activity(name="charge")(lambda order: order)
    sync_registry()
    before = rows()

    sync_registry()

    assert rows() == before
    assert Function.objects.filter(name="charge").count() == 1
