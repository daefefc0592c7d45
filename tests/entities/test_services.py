"""entities.services: get, query, delete and clean_storage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

import samples.bank  # (registers the Account entity)
import samples.counter  # noqa: F401  (registers the counter entity)
from entities import services as entities
from entities.models import Entity
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.models import Message
from orchestrations.worker.loop import drain_all
from tests.entities.helpers import lock_owner, state_of

pytestmark = pytest.mark.django_db

C1 = EntityId("counter", "c1")
ALICE = EntityId("account", "alice")


def signal_and_run(entity_id: EntityId, operation: str, input=None) -> None:
    entities.signal(entity_id, operation, input)
    drain_all()


# get


def test_get_returns_the_state_and_when_it_last_changed():
    before = timezone.now()
    signal_and_run(C1, "add", 3)

    found = entities.get(C1)

    assert (found.entity_id, found.exists, found.state, found.lock_owner) == (C1, True, 3, None)
    assert found.last_operation_at >= before


def test_get_of_an_entity_never_seen_raises_entity_not_found():
    with pytest.raises(entities.EntityNotFoundError, match="entity @counter@nobody does not exist"):
        entities.get(EntityId("counter", "nobody"))


def test_get_of_an_entity_whose_state_was_deleted_raises_entity_not_found():
    signal_and_run(ALICE, "deposit", 5)
    signal_and_run(ALICE, "delete")

    assert Entity.objects.filter(pk=str(ALICE)).exists()
    with pytest.raises(entities.EntityNotFoundError):
        entities.get(ALICE)


def test_parse_entity_id_refuses_a_bad_name_as_bad_input():
    with pytest.raises(entities.BadInputError, match="without '@'"):
        entities.parse_entity_id("coun@ter", "c1")

    assert entities.parse_entity_id("Counter", "c1") == C1


# query


def make_counters(*keys: str) -> None:
    for key in keys:
        entities.signal(EntityId("counter", key), "add", 1)
    drain_all()


def test_query_by_name_lists_that_entitys_instances_in_id_order():
    make_counters("b", "a", "c")
    signal_and_run(ALICE, "deposit", 5)

    page = entities.query(name="Counter")

    assert [row.entity_id for row in page.entities] == ["@counter@a", "@counter@b", "@counter@c"]
    assert page.continuation_token is None


def test_query_leaves_out_deleted_entities_unless_asked():
    make_counters("a")
    signal_and_run(ALICE, "deposit", 5)
    signal_and_run(ALICE, "delete")

    assert [row.entity_id for row in entities.query().entities] == ["@counter@a"]
    assert [row.entity_id for row in entities.query(include_deleted=True).entities] == ["@account@alice", "@counter@a"]


def test_query_pages_through_every_entity_once():
    keys = [f"k{n:02d}" for n in range(7)]
    make_counters(*keys)

    seen, token, pages = [], None, 0
    while True:
        page = entities.query(name="counter", page_size=3, continuation_token=token)
        seen += [row.key for row in page.entities]
        pages += 1
        token = page.continuation_token
        if token is None:
            break

    assert seen == keys
    assert pages == 3


def test_query_by_last_operation_time():
    make_counters("old")
    Entity.objects.filter(pk="@counter@old").update(last_operation_at=timezone.now() - timedelta(days=2))
    make_counters("new")

    recent = entities.query(last_operation_from=timezone.now() - timedelta(days=1))
    older = entities.query(last_operation_to=timezone.now() - timedelta(days=1))

    assert [row.key for row in recent.entities] == ["new"]
    assert [row.key for row in older.entities] == ["old"]


def test_query_refuses_a_page_size_below_one_and_a_forged_token():
    with pytest.raises(entities.BadInputError):
        entities.query(page_size=0)
    with pytest.raises(entities.BadInputError):
        entities.query(continuation_token="not-a-token!")


# delete


def test_delete_removes_the_entity_and_its_waiting_messages():
    signal_and_run(C1, "add", 3)
    entities.signal(C1, "add", 4, scheduled_time=timezone.now() + timedelta(hours=1))

    entities.delete(C1)

    assert not Entity.objects.filter(pk=str(C1)).exists()
    assert not Message.objects.filter(instance_id=str(C1)).exists()
    with pytest.raises(entities.EntityNotFoundError):
        entities.get(C1)


def test_delete_of_an_unknown_entity_raises_entity_not_found():
    with pytest.raises(entities.EntityNotFoundError):
        entities.delete(EntityId("counter", "nobody"))


def test_delete_is_refused_while_an_orchestration_holds_the_lock():
    signal_and_run(C1, "add", 3)
    holder = services.start("hold_locks", [str(C1)])
    drain_all()
    assert lock_owner(C1) == holder

    with pytest.raises(entities.InvalidStateError, match=f"locked by orchestration '{holder}'"):
        entities.delete(C1)
    assert state_of(C1) == 3

    services.raise_event(holder, "release")
    drain_all()
    entities.delete(C1)
    assert not Entity.objects.filter(pk=str(C1)).exists()


# clean_storage


def test_clean_storage_removes_entities_without_state_or_messages():
    signal_and_run(ALICE, "deposit", 5)
    signal_and_run(ALICE, "delete")
    make_counters("kept")
    entities.signal(EntityId("counter", "waiting"), "add", 1, scheduled_time=timezone.now() + timedelta(hours=1))

    result = entities.clean_storage()

    assert result == entities.CleanResult(empty_entities_removed=1, orphaned_locks_released=0)
    assert set(Entity.objects.values_list("pk", flat=True)) == {"@counter@kept", "@counter@waiting"}


def test_clean_storage_releases_locks_whose_orchestration_ended():
    make_counters("a", "b")
    holder = services.start("hold_locks", ["@counter@a"])
    drain_all()
    ended = services.start("echo_orchestrator", 1)
    drain_all()
    Entity.objects.filter(pk="@counter@b").update(lock_owner=ended, locked_at=timezone.now())

    result = entities.clean_storage(remove_empty=False)

    assert result.orphaned_locks_released == 1
    assert lock_owner(EntityId("counter", "b")) is None
    assert lock_owner(EntityId("counter", "a")) == holder


def test_clean_storage_releases_locks_of_a_terminated_orchestration_and_lets_waiting_work_run():
    make_counters("a")
    ended = services.start("wait_for_approval")
    drain_all()
    services.terminate(ended, "gone")
    drain_all()
    Entity.objects.filter(pk="@counter@a").update(lock_owner=ended, locked_at=timezone.now())
    entities.signal(EntityId("counter", "a"), "add", 10)
    drain_all()
    assert state_of(EntityId("counter", "a")) == 1  # The signal waits behind the stale lock.

    assert entities.clean_storage().orphaned_locks_released == 1
    drain_all()

    assert state_of(EntityId("counter", "a")) == 11
    assert lock_owner(EntityId("counter", "a")) is None


def test_clean_storage_releases_locks_of_an_orchestration_that_no_longer_exists():
    make_counters("a")
    Entity.objects.filter(pk="@counter@a").update(lock_owner="purged-long-ago", locked_at=timezone.now())

    assert entities.clean_storage().orphaned_locks_released == 1
    assert lock_owner(EntityId("counter", "a")) is None
