"""Activities with ``max_concurrency`` in the activity worker: a claimed item runs only with a
slot; the others are handed back without counting as a delivery or a failure, and never hold
up other activities' items."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from functions.models import ConcurrencySlot, Invocation
from functions.registry import FunctionKind, registry
from functions.store.concurrency import acquire_slots, held_slots
from orchestrations import services
from orchestrations.models import WorkItem
from orchestrations.store.claims import claim_work_items
from orchestrations.worker.activities import LeaseKeeper, process_activities, run_batch
from orchestrations.worker.loop import drain_all
from tests.function_apps_concurrency import LIMIT
from tests.orchestrations.helpers import run_orchestrations

pytestmark = pytest.mark.django_db

LIMITED = "concurrency_limited_step"


@pytest.fixture
def spec(tmp_path) -> dict:
    return {"activity": LIMITED, "calls": 5, "counter": str(tmp_path / "counter.json"), "seconds": 0}


def fan_out(spec: dict, calls: int, instance_id: str = "fan-out") -> str:
    instance_id = services.start("concurrency_fan_out", {**spec, "calls": calls}, instance_id=instance_id)
    run_orchestrations()
    return instance_id


def claim(worker_id: str):
    return claim_work_items(worker_id, 50, registry.limits(FunctionKind.ACTIVITY))


def limited_items():
    return WorkItem.objects.filter(name=LIMITED)


def test_a_claim_runs_one_call_of_a_limited_activity_and_hands_the_others_back_ready(spec):
    fan_out(spec, 5)

    runs = claim("worker-a")

    assert [(run.item.name, run.slot) for run in runs] == [(LIMITED, 0)]
    others = limited_items().exclude(pk=runs[0].item.pk)
    assert others.count() == 4
    assert not others.filter(lease_owner__isnull=False).exists()
    assert set(others.values_list("deliveries", flat=True)) == {0}
    assert not others.filter(visible_at__gt=timezone.now()).exists()
    assert Invocation.objects.filter(function_name=LIMITED).count() == 1


def test_workers_take_the_free_slots_and_the_next_finds_none(spec):
    fan_out(spec, 5)

    first, second, third = claim("worker-a"), claim("worker-b"), claim("worker-c")

    assert [run.slot for run in first + second] == [0, 1]
    assert third == []
    # The five minus the two running wait out of the way until a slot frees up.
    assert limited_items().filter(visible_at__gt=timezone.now(), lease_owner__isnull=True).count() == 3
    assert held_slots(LIMITED) == LIMIT


def test_a_released_slot_wakes_the_parked_calls(spec):
    fan_out(spec, 5)
    running, _ = claim("worker-a"), claim("worker-b")
    assert claim("worker-c") == []

    run_batch(running, "worker-a")

    assert held_slots(LIMITED) == 1
    assert not limited_items().filter(visible_at__gt=timezone.now()).exists()
    assert [run.slot for run in claim("worker-c")] == [0]


def test_a_full_limited_activity_does_not_hold_up_other_activities(spec):
    acquire_slots(LIMITED, LIMIT, LIMIT, "busy-elsewhere")
    fan_out(spec, 50)
    echo_id = services.start("echo_orchestrator", "behind them", instance_id="echo")
    run_orchestrations()
    assert WorkItem.objects.get(instance_id=echo_id).pk > max(limited_items().values_list("pk", flat=True))

    ran = process_activities("worker-a", 50)

    assert ran == 1
    assert Invocation.objects.filter(instance_id=echo_id, status=Invocation.Status.COMPLETED).exists()
    assert not Invocation.objects.filter(function_name=LIMITED).exists()
    assert limited_items().count() == 50
    assert set(limited_items().values_list("deliveries", "lease_owner")) == {(0, None)}
    # Parked until the earliest lease of the slots held elsewhere ends, at the latest.
    assert not limited_items().filter(visible_at__lte=timezone.now()).exists()


def test_every_call_of_a_limited_activity_completes_once(spec):
    instance_id = fan_out(spec, 6)

    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Completed"
    assert services.parse_json(instance.output, "output") == [1] * 6
    runs = Invocation.objects.filter(function_name=LIMITED)
    assert runs.count() == 6
    assert set(runs.values_list("status", "attempt")) == {(Invocation.Status.COMPLETED, 1)}
    assert held_slots(LIMITED) == 0


def test_a_limited_call_is_not_carried_on_but_left_to_a_claim(spec):
    instance_id = services.start("concurrency_chain", spec, instance_id="chain")
    run_orchestrations()

    ran = process_activities("worker-a", 50)

    assert ran == 1
    waiting = WorkItem.objects.get(instance_id=instance_id)
    assert (waiting.name, waiting.lease_owner) == (LIMITED, None)
    drain_all()
    assert services.parse_json(services.get(instance_id).output, "output") == [1, 1]


def test_slots_held_by_dead_workers_come_back_when_their_leases_end(spec):
    instance_id = fan_out(spec, 3)
    for dead in ("dead-worker-a", "dead-worker-b"):
        assert claim(dead)  # Each takes a slot and a call, and dies with them.
    assert claim("worker-c") == []

    past = timezone.now() - timedelta(seconds=1)
    ConcurrencySlot.objects.update(lease_until=past)
    WorkItem.objects.update(lease_expires_at=past, visible_at=past)
    drain_all()

    assert services.get(instance_id).runtime_status == "Completed"
    statuses = sorted(Invocation.objects.filter(function_name=LIMITED).values_list("status", flat=True))
    assert statuses == sorted([Invocation.Status.ABANDONED] * 2 + [Invocation.Status.COMPLETED] * 3)


def test_claims_of_unlimited_activities_cost_no_statement_more(spec):
    for number in range(2):
        services.start("echo_orchestrator", number, instance_id=f"echo-{number}")
    run_orchestrations()
    assert registry.limits(FunctionKind.ACTIVITY)  # This app has limited activities.

    with CaptureQueriesContext(connection) as without_limits:
        claim_work_items("worker-a", 1)
    with CaptureQueriesContext(connection) as with_limits:
        claim_work_items("worker-a", 1, registry.limits(FunctionKind.ACTIVITY))

    assert len(with_limits.captured_queries) == len(without_limits.captured_queries)


def test_the_lease_keeper_renews_the_slot_of_a_long_run_until_it_is_released(spec):
    fan_out(spec, 2)
    [run] = claim("worker-a")
    keeper = LeaseKeeper([run.item.pk], "worker-a", [run])
    ConcurrencySlot.objects.update(lease_until=timezone.now() - timedelta(seconds=1))

    keeper.renew()  # What the lease renewer does every third of the lease time.
    assert held_slots(LIMITED) == 1

    run_batch([run], "worker-a")
    ConcurrencySlot.objects.filter(number=0).update(
        holder="worker-a", lease_until=timezone.now() - timedelta(seconds=1)
    )
    keeper.renew()  # A released slot, even one taken again since, is not the run's to renew.
    assert held_slots(LIMITED) == 0
