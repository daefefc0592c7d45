"""Critical sections through the database: who holds an entity's lock, who waits, and how
locks are released when an orchestration leaves its critical section or ends."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

import samples.counter  # noqa: F401  (registers the counter entity)
from entities import services as entities
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.engine import events as ev
from orchestrations.engine.events import EventType
from orchestrations.models import Message
from orchestrations.store.inbox import deliver
from orchestrations.worker.loop import drain_all
from tests.entities.helpers import lock_owner, output_of, state_of

pytestmark = pytest.mark.django_db

A = EntityId("counter", "a")
B = EntityId("counter", "b")


def hold(*entity_ids: EntityId) -> str:
    """Start an orchestration that locks the entities and holds them until its "release" event."""
    holder = services.start("hold_locks", [str(entity_id) for entity_id in entity_ids])
    drain_all()
    return holder


def release(holder: str) -> None:
    services.raise_event(holder, "release")
    drain_all()


def test_a_lock_is_granted_after_visiting_every_entity_in_order():
    holder = hold(B, A)

    assert (lock_owner(A), lock_owner(B)) == (holder, holder)
    history = services.history(holder)
    [requested] = [row for row in history if row.event_type == EventType.ENTITY_LOCK_REQUESTED]
    assert requested.details["entity_ids"] == ["@counter@a", "@counter@b"]
    assert EventType.ENTITY_LOCK_GRANTED in [row.event_type for row in history]
    assert not Message.objects.filter(instance_id__startswith="@").exists()


def test_leaving_the_critical_section_releases_every_lock():
    holder = hold(A, B)

    release(holder)

    assert services.get(holder).runtime_status == "Completed"
    assert (lock_owner(A), lock_owner(B)) == (None, None)
    assert EventType.ENTITY_UNLOCK_SENT in [row.event_type for row in services.history(holder)]


def test_others_operations_wait_while_an_entity_is_locked_then_run_in_order():
    entities.signal(A, "add", 1)
    drain_all()
    holder = hold(A)

    entities.signal(A, "add", 10)
    entities.signal(A, "add", 100)
    caller = services.start("call_entity_by_name", {"entity": str(A), "operation": "get"})
    drain_all()

    assert state_of(A) == 1
    assert services.get(caller).runtime_status == "Running"

    release(holder)

    assert state_of(A) == 111
    assert output_of(services.get(caller)) == 111


def test_a_second_lock_request_waits_for_the_first_holder():
    first = hold(A, B)
    second = hold(B)

    assert lock_owner(B) == first
    assert services.get(second).runtime_status == "Running"

    release(first)

    assert (lock_owner(A), lock_owner(B)) == (None, second)
    release(second)
    assert lock_owner(B) is None


def test_an_orchestration_terminated_while_holding_locks_releases_them():
    holder = hold(A, B)
    waiting = hold(A)
    assert lock_owner(A) == holder

    services.terminate(holder, "stuck")
    drain_all()

    assert services.get(holder).runtime_status == "Terminated"
    assert (lock_owner(A), lock_owner(B)) == (waiting, None)


def test_an_orchestration_terminated_while_waiting_for_a_lock_never_gets_it():
    holder = hold(A)
    waiting = hold(A, B)

    services.terminate(waiting, "gave up")
    drain_all()
    release(holder)

    assert (lock_owner(A), lock_owner(B)) == (None, None)
    assert not Message.objects.filter(instance_id__startswith="@").exists()


def test_an_orchestration_failing_inside_its_critical_section_releases_its_locks():
    instance_id = services.start("fail_inside_critical_section", [str(A), str(B)])
    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Failed"
    assert "failed while holding locks" in instance.failure["message"]
    assert (lock_owner(A), lock_owner(B)) == (None, None)


def test_a_lock_request_from_an_orchestration_that_already_ended_is_not_granted():
    ended = services.start("echo_orchestrator", 1)
    drain_all()
    assert services.get(ended).runtime_status == "Completed"
    request = ev.entity_lock_requested(timezone.now(), 0, [str(A)])
    with transaction.atomic():
        deliver([Message.for_event(str(A), request, sender=ended)])

    drain_all()

    assert lock_owner(A) is None
    entities.signal(A, "add", 2)
    drain_all()
    assert state_of(A) == 2


@pytest.mark.timeout(30)  # The failure this guards against is a worker spinning forever.
def test_signals_waiting_behind_a_lock_do_not_hold_up_the_lock_holder(settings):
    # More waiting messages than one batch takes must not hide the holder's unlock.
    settings.PERDURA_ENTITY_BATCH_SIZE = 3
    holder = hold(A)
    for _ in range(5):
        entities.signal(A, "add", 1)
    drain_all()

    release(holder)

    assert lock_owner(A) is None
    assert state_of(A) == 5


def test_a_lock_request_left_behind_by_continue_as_new_is_not_granted_to_the_next_execution():
    holder = hold(A)
    gave_up = services.start("lock_or_give_up", {"entities": [str(A), str(B)]})
    drain_all()
    services.raise_event(gave_up, "give_up")
    drain_all()
    assert services.get(gave_up).runtime_status == "Running"  # Its next execution waits for "stop".

    release(holder)

    assert (lock_owner(A), lock_owner(B)) == (None, None)
    services.raise_event(gave_up, "stop")
    drain_all()
    assert output_of(services.get(gave_up)) == "stopped"
