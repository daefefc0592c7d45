"""The bank sample: class-style Account entities and transfers inside critical sections."""

from __future__ import annotations

import random

import pytest

import samples.bank  # noqa: F401  (registers the Account entity and the transfer orchestrator)
from entities import services as entities
from entities.models import Entity
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.engine.events import EventType
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all
from tests.conftest import wait_until
from tests.entities.helpers import lock_owner, output_of, run_to_end, state_of

ALICE = EntityId("account", "alice")
BOB = EntityId("account", "bob")


def open_accounts(**balances: int) -> None:
    for name, balance in balances.items():
        entities.signal(EntityId("account", name), "deposit", balance)
    drain_all()


def balance(name: str) -> int:
    return state_of(EntityId("account", name))["balance"]


def transfer(source: str, destination: str, amount: int) -> Instance:
    return run_to_end("transfer", {"source": source, "destination": destination, "amount": amount})


@pytest.mark.django_db
def test_a_transfer_moves_the_money_and_says_so():
    open_accounts(alice=100, bob=20)

    instance = transfer("alice", "bob", 30)

    assert (instance.runtime_status, output_of(instance)) == ("Completed", True)
    assert (balance("alice"), balance("bob")) == (70, 50)


@pytest.mark.django_db
def test_a_transfer_larger_than_the_balance_moves_nothing():
    open_accounts(alice=10, bob=20)

    instance = transfer("alice", "bob", 30)

    assert (instance.runtime_status, output_of(instance)) == ("Completed", False)
    assert (balance("alice"), balance("bob")) == (10, 20)


@pytest.mark.django_db
def test_a_transfer_locks_both_accounts_in_canonical_order_and_releases_them():
    open_accounts(alice=0, bob=100)

    instance = transfer("bob", "alice", 5)

    assert output_of(instance) is True

    history = services.history(instance.pk)
    [requested] = [row for row in history if row.event_type == EventType.ENTITY_LOCK_REQUESTED]
    assert requested.details["entity_ids"] == ["@account@alice", "@account@bob"]
    [unlocked] = [row for row in history if row.event_type == EventType.ENTITY_UNLOCK_SENT]
    assert unlocked.details["entity_ids"] == ["@account@alice", "@account@bob"]
    assert (lock_owner(ALICE), lock_owner(BOB)) == (None, None)


@pytest.mark.django_db
def test_a_refused_transfer_releases_the_locks_too():
    open_accounts(alice=1, bob=0)

    transfer("alice", "bob", 5)

    assert (lock_owner(ALICE), lock_owner(BOB)) == (None, None)


@pytest.mark.django_db
def test_a_transfer_from_an_account_to_itself_fails():
    open_accounts(alice=100)

    instance = transfer("alice", "alice", 5)

    assert instance.runtime_status == "Failed"
    assert "a transfer needs two different accounts" in instance.failure["message"]
    assert balance("alice") == 100


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -5, 2.5, "5"])
def test_a_transfer_of_a_bad_amount_fails_before_locking(amount):
    open_accounts(alice=100, bob=0)

    instance = transfer("alice", "bob", amount)

    assert instance.runtime_status == "Failed"
    assert "an amount must be a positive whole number" in instance.failure["message"]
    event_types = [row.event_type for row in services.history(instance.pk)]
    assert EventType.ENTITY_LOCK_REQUESTED not in event_types


@pytest.mark.django_db
def test_transfers_in_opposite_directions_at_once_all_complete():
    open_accounts(alice=50, bob=50)
    instance_ids = [
        services.start("transfer", {"source": source, "destination": destination, "amount": 10})
        for source, destination in [("alice", "bob"), ("bob", "alice")] * 4
    ]

    drain_all()

    assert [output_of(services.get(instance_id)) for instance_id in instance_ids] == [True] * 8
    assert (balance("alice"), balance("bob")) == (50, 50)


@pytest.mark.django_db
def test_withdrawing_more_than_the_balance_is_refused_by_the_account():
    open_accounts(alice=10)

    instance = run_to_end("call_entities", [[str(ALICE), "withdraw", 11], [str(ALICE), "get", None]])

    refused, left = output_of(instance)
    assert refused["error_type"] == "samples.bank.InsufficientFundsError"
    assert left == 10


@pytest.mark.django_db
def test_closing_an_account_deletes_its_state():
    open_accounts(alice=10)

    entities.signal(ALICE, "delete")
    drain_all()

    with pytest.raises(entities.EntityNotFoundError):
        entities.get(ALICE)


ACCOUNTS = ["a1", "a2", "a3", "a4"]
OPENING_BALANCE = 100
TRANSFERS = 20


@pytest.mark.slow
def test_concurrent_transfers_keep_the_total_and_never_overdraw(workers):
    rng = random.Random(7)
    for name in ACCOUNTS:
        entities.signal(EntityId("account", name), "deposit", OPENING_BALANCE)
    jobs = []
    for number in range(TRANSFERS):
        source, destination = rng.sample(ACCOUNTS, 2)
        # Both directions between the same pairs, and some larger than any balance can be.
        amount = rng.choice([10, 25, 60, 500])
        jobs.append((f"transfer-{number:02d}", {"source": source, "destination": destination, "amount": amount}))
    for instance_id, job in jobs:
        services.start("transfer", job, instance_id=instance_id)

    def all_finished() -> bool:
        return Instance.objects.filter(
            pk__in=[instance_id for instance_id, _ in jobs], completed_at__isnull=False
        ).count() == len(jobs)

    wait_until(all_finished, timeout=60, message=f"all {TRANSFERS} transfers to finish (a deadlock would stall them)")

    instances = Instance.objects.filter(pk__in=[instance_id for instance_id, _ in jobs])
    assert {instance.runtime_status for instance in instances} == {"Completed"}
    moved = [output_of(instance) for instance in instances]
    assert set(moved) <= {True, False}
    assert True in moved and False in moved
    balances = {name: balance(name) for name in ACCOUNTS}
    assert sum(balances.values()) == OPENING_BALANCE * len(ACCOUNTS)
    assert min(balances.values()) >= 0
    wait_until(
        lambda: not Entity.objects.filter(lock_owner__isnull=False).exists(), timeout=10, message="every lock released"
    )
