"""Many senders, one entity, background workers: no operation is lost or applied twice."""

from __future__ import annotations

import pytest

import samples.counter  # noqa: F401  (registers the counter entity)
from entities.models import Entity
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.models import Instance, Message
from tests.conftest import wait_until
from tests.entities.helpers import output_of, state_of

pytestmark = pytest.mark.slow

HOT = EntityId("counter", "hot")
ORCHESTRATIONS = 30
SIGNALS_EACH = 20


def counter_value() -> int | None:
    row = Entity.objects.filter(pk=str(HOT)).values_list("state", flat=True).first()
    return None if row is None else int(row)


def test_signals_from_many_orchestrations_to_one_counter_are_all_applied(workers):
    expected = ORCHESTRATIONS * SIGNALS_EACH
    for number in range(ORCHESTRATIONS):
        services.start("signal_entities", [[str(HOT), "add", 1]] * SIGNALS_EACH, instance_id=f"sender-{number:02d}")

    wait_until(lambda: counter_value() == expected, timeout=60, message=f"the counter to reach {expected}")

    assert Instance.objects.filter(runtime_status="Completed").count() == ORCHESTRATIONS
    wait_until(lambda: not Message.objects.filter(instance_id=str(HOT)).exists(), timeout=10, message="an empty inbox")
    assert state_of(HOT) == expected


def test_calls_from_many_orchestrations_are_each_answered_once(workers):
    callers = [
        services.start("call_entities", [[str(HOT), "add", 1]] * 5 + [[str(HOT), "get", None]])
        for _ in range(ORCHESTRATIONS)
    ]

    def finished() -> bool:
        return Instance.objects.filter(pk__in=callers, completed_at__isnull=False).count() == len(callers)

    wait_until(finished, timeout=60, message="every caller to finish")

    assert state_of(HOT) == ORCHESTRATIONS * 5
    last_reads = sorted(output_of(services.get(caller))[-1] for caller in callers)
    # Each caller read the counter after its own five adds; the last read came after all of them.
    assert last_reads[0] >= 5
    assert last_reads[-1] == ORCHESTRATIONS * 5
