"""Bank: class-style ``Account`` entities and a ``transfer`` orchestrator that moves money
between two of them inside a critical section.

An account is a class: its public methods are the operations (``deposit``, ``withdraw``,
``get``), its attributes the state, and ``delete`` (built in) removes it. A transfer must
not let another transfer read a balance between its check and its withdrawal, so it locks
both accounts first: while an orchestration holds the locks, the accounts run only its
operations. Locks are taken in one canonical order whatever order the code names them in,
so two transfers in opposite directions wait for each other instead of deadlocking.
"""

from __future__ import annotations

from functions import FunctionApp
from orchestrations.engine import EntityId

app = FunctionApp("bank")


class InsufficientFundsError(ValueError):
    pass


@app.entity
class Account:
    def __init__(self) -> None:
        self.balance = 0

    def deposit(self, amount: int) -> int:
        _check_amount(amount)
        self.balance += amount
        return self.balance

    def withdraw(self, amount: int) -> int:
        _check_amount(amount)
        if amount > self.balance:
            raise InsufficientFundsError(f"cannot withdraw {amount} from a balance of {self.balance}")
        self.balance -= amount
        return self.balance

    def get(self) -> int:
        return self.balance


def _check_amount(amount: object) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError(f"an amount must be a positive whole number, not {amount!r}")


@app.orchestrator
def transfer(ctx):
    """Input: ``{"source": "alice", "destination": "bob", "amount": 30}``; returns whether the
    money moved (it does not when the source's balance is too low)."""
    job = ctx.get_input()
    source = EntityId("account", job["source"])
    destination = EntityId("account", job["destination"])
    amount = job["amount"]
    _check_amount(amount)
    if source == destination:
        raise ValueError(f"a transfer needs two different accounts, not {source} twice")
    with (yield ctx.lock_entities(source, destination)):
        balance = yield ctx.call_entity(source, "get")
        if balance < amount:
            return False
        # Both accounts are locked, so the two operations may run side by side.
        yield ctx.task_all(
            [ctx.call_entity(source, "withdraw", amount), ctx.call_entity(destination, "deposit", amount)]
        )
    return True
