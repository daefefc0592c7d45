"""W4 CounterStorm: N ``add(1)`` signals to one counter entity; operations/s.

The clock starts before the first signal is sent and stops when the runner sees the counter
at N (it looks every POLL_SECONDS, so the figure errs on the slow side by at most that).
The signals go through ``entities.services.signal_many`` in batches, each batch one
transaction (one signal per transaction lets the client's commits set the pace). The time the client
took to send them all is reported too: when it is close to the whole, the client is what
limits the figure.
"""

from __future__ import annotations

import uuid
from time import perf_counter

from bench.measure import Figure, TimedOut, chunks, wait_until
from entities import services as entities
from entities.models import Entity
from orchestrations.engine import EntityId
from orchestrations.engine.serialization import loads

WORKLOAD = "W4"
ENTITY = "bench_counter"
SIGNAL_BATCH = 100
TARGET_OPERATIONS_PER_SECOND = 1400.0


def run(signals: int, *, timeout: float) -> list[Figure]:
    title = f"CounterStorm x{signals:,}"
    entity_id = EntityId(ENTITY, f"w4-{uuid.uuid4().hex[:12]}")
    details: dict = {"signals": signals, "signal_batch": SIGNAL_BATCH}
    started = perf_counter()
    for batch in chunks(range(signals), SIGNAL_BATCH):
        entities.signal_many([entities.Signal(entity_id, "add", 1) for _ in batch])
    details["client_signal_seconds"] = round(perf_counter() - started, 3)
    try:
        reached = wait_until(lambda: counter_value(entity_id) >= signals, timeout, f"{entity_id} reaching {signals}")
    except TimedOut as error:
        details.update(error=str(error), value=counter_value(entity_id))
        return [Figure(WORKLOAD, title, "operations/s", None, "higher", TARGET_OPERATIONS_PER_SECOND, details)]
    value = counter_value(entity_id)
    if value != signals:
        details["error"] = f"the counter reached {value}, not {signals}: an operation ran twice"
        return [Figure(WORKLOAD, title, "operations/s", None, "higher", TARGET_OPERATIONS_PER_SECOND, details)]
    elapsed = reached - started
    details["elapsed_seconds"] = round(elapsed, 3)
    return [Figure(WORKLOAD, title, "operations/s", signals / elapsed, "higher", TARGET_OPERATIONS_PER_SECOND, details)]


def counter_value(entity_id: EntityId) -> int:
    state = Entity.objects.filter(pk=str(entity_id)).values_list("state", flat=True).first()
    return loads(state) if state is not None else 0
