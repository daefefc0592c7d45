"""Concurrency slots (functions/store/concurrency.py) and the runtimes' API to them
(functions/worker/concurrency.py): at most N holders at once, each releasing only its own,
and a slot whose holder died free again once its lease has ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from functions import FunctionApp
from functions.models import ConcurrencySlot
from functions.registry import FunctionKind
from functions.services import sync_registry
from functions.store.concurrency import (
    acquire_slots,
    ensure_slots,
    held_slots,
    release_slots,
    renew_slots,
    sync_slots,
)
from functions.worker import concurrency

pytestmark = pytest.mark.django_db


def expire_leases(function_name: str) -> None:
    """As if the holders died: their leases ended a second ago."""
    ConcurrencySlot.objects.filter(function_name=function_name).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )


def test_the_first_acquire_makes_the_slots_and_grants_up_to_the_limit(settings):
    settings.PERDURA_LEASE_SECONDS = 30

    acquired = acquire_slots("resize", 2, 3, "worker-a")

    assert acquired.numbers == [0, 1]
    assert ConcurrencySlot.objects.filter(function_name="resize").count() == 2
    # Cut short: it says when a held slot frees up at the latest, the end of its lease.
    assert timedelta(seconds=25) < acquired.free_at - timezone.now() <= timedelta(seconds=30)


def test_a_full_function_grants_nothing_to_another_holder():
    acquire_slots("resize", 2, 2, "worker-a")

    acquired = acquire_slots("resize", 2, 1, "worker-b")

    assert acquired.granted == 0
    assert acquired.free_at is not None
    assert held_slots("resize") == 2


def test_all_granted_says_no_time_to_try_again():
    acquired = acquire_slots("resize", 3, 2, "worker-a")

    assert acquired.numbers == [0, 1]
    assert acquired.free_at is None


def test_functions_have_slots_of_their_own():
    acquire_slots("resize", 1, 1, "worker-a")

    assert acquire_slots("thumbnail", 1, 1, "worker-a").numbers == [0]


def test_a_holder_releases_only_its_own_slots():
    acquire_slots("resize", 2, 1, "worker-a")
    acquire_slots("resize", 2, 1, "worker-b")

    assert release_slots("resize", [0, 1], "worker-a") == 1

    assert list(
        ConcurrencySlot.objects.filter(function_name="resize").order_by("number").values_list("holder", flat=True)
    ) == ["", "worker-b"]
    assert acquire_slots("resize", 2, 1, "worker-c").numbers == [0]


def test_a_slot_whose_holder_died_is_free_once_its_lease_has_ended():
    acquire_slots("resize", 1, 1, "killed-worker")
    assert acquire_slots("resize", 1, 1, "worker-b").granted == 0

    expire_leases("resize")

    assert held_slots("resize") == 0
    assert acquire_slots("resize", 1, 1, "worker-b").numbers == [0]
    # The dead holder's late release, should it come, frees nothing that is not its own.
    assert release_slots("resize", [0], "killed-worker") == 0
    assert held_slots("resize") == 1


def test_a_renewed_lease_outlasts_the_first(settings):
    settings.PERDURA_LEASE_SECONDS = 30
    acquire_slots("resize", 1, 1, "worker-a")
    expire_leases("resize")

    assert renew_slots("resize", [0], "worker-b") == 0
    assert renew_slots("resize", [0], "worker-a") == 1

    assert held_slots("resize") == 1
    assert acquire_slots("resize", 1, 1, "worker-b").granted == 0


def test_a_lowered_limit_grants_no_slot_past_it_and_the_sync_deletes_the_free_ones():
    ensure_slots("resize", 3)
    acquire_slots("resize", 3, 1, "worker-a")  # Slot 0.
    ConcurrencySlot.objects.filter(function_name="resize", number=2).update(
        holder="worker-b", lease_until=timezone.now() + timedelta(seconds=30)
    )

    assert acquire_slots("resize", 1, 1, "worker-c").granted == 0

    sync_slots({"resize": 1})
    # Slot 1 was free and is gone; slot 2 is held, and goes at a sync after its release.
    assert sorted(ConcurrencySlot.objects.filter(function_name="resize").values_list("number", flat=True)) == [0, 2]


def test_the_sync_deletes_the_free_slots_of_functions_no_longer_limited():
    ensure_slots("resize", 2)
    acquire_slots("thumbnail", 2, 1, "worker-a")

    sync_slots({})

    assert list(ConcurrencySlot.objects.values_list("function_name", "number")) == [("thumbnail", 0)]


def test_the_registry_sync_makes_the_slots_of_limited_functions(fresh_registry):
    app = FunctionApp("limits")

    @app.activity(max_concurrency=3)
    def resize(image):
        return image

    @app.activity
    def thumbnail(image):
        return image

    sync_registry()

    assert sorted(ConcurrencySlot.objects.values_list("function_name", "number")) == [
        ("resize", 0),
        ("resize", 1),
        ("resize", 2),
    ]


def test_the_registry_keeps_the_limits_until_it_changes(fresh_registry):
    app = FunctionApp("limits")

    @app.activity(max_concurrency=3)
    def resize(image):
        return image

    assert fresh_registry.limits(FunctionKind.ACTIVITY) == {"resize": 3}
    assert fresh_registry.limits(FunctionKind.ACTIVITY) is fresh_registry.limits(FunctionKind.ACTIVITY)

    @app.activity(max_concurrency=1)
    def thumbnail(image):
        return image

    assert fresh_registry.limits(FunctionKind.ACTIVITY) == {"resize": 3, "thumbnail": 1}
    assert fresh_registry.limits(FunctionKind.QUEUE) == {}


# The runtimes' API.


@pytest.fixture
def functions(fresh_registry):
    app = FunctionApp("limits")

    @app.queue_trigger(arg_name="msg", queue_name="images", max_concurrency=2)
    def resize(msg):
        return None

    @app.queue_trigger(arg_name="msg", queue_name="thumbs")
    def thumbnail(msg):
        return None

    return fresh_registry.get(FunctionKind.QUEUE, "resize"), fresh_registry.get(FunctionKind.QUEUE, "thumbnail")


def test_a_function_without_a_limit_is_granted_everything_without_a_statement(functions, django_assert_num_queries):
    _, unlimited = functions

    with django_assert_num_queries(0), concurrency.slots(unlimited, wanted=50, holder="worker-a") as slots:
        assert slots.granted == 50
        slots.release_one()
        assert slots.granted == 49


def test_slots_are_held_inside_the_block_and_released_after_it(functions):
    limited, _ = functions

    with concurrency.slots(limited, wanted=5, holder="worker-a") as slots:
        assert slots.granted == 2
        assert slots.free_at is not None
        assert held_slots("resize") == 2
        slots.release_one()
        assert (slots.granted, held_slots("resize")) == (1, 1)

    assert held_slots("resize") == 0


def test_slots_are_released_when_the_block_fails(functions):
    limited, _ = functions

    with pytest.raises(RuntimeError), concurrency.slots(limited, wanted=1, holder="worker-a"):
        raise RuntimeError("the run broke")

    assert held_slots("resize") == 0


def test_the_renewer_keeps_a_long_run_s_slots(functions, settings):
    limited, _ = functions
    settings.PERDURA_LEASE_SECONDS = 30

    with concurrency.slots(limited, wanted=1, holder="worker-a") as slots:
        expire_leases("resize")
        slots.renew()  # What the lease renewer does every third of the lease time.
        assert held_slots("resize") == 1
