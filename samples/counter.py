"""Counter: the canonical durable entity, a number that operations change one at a time.

``counter`` is a function-style entity, written as in Azure's Python sample: it reads its
state (0 for a counter never seen), applies the operation and stores the new state. Anyone
can signal it (``add`` 5, ``reset``) without waiting, and an orchestrator can call it and
wait for the answer (``get``). Operations on one counter never run at the same time, so
concurrent adds are never lost.

``count_visits`` shows the orchestrator side: it signals one ``add`` per visit, then calls
``get``; the call is answered after the adds because an entity runs the operations of one
sender in the order they were sent.
"""

from __future__ import annotations

from functions import FunctionApp
from orchestrations.engine import EntityId

app = FunctionApp("counter")


@app.entity
def counter(ctx):
    current_value = ctx.get_state(lambda: 0)
    operation = ctx.operation_name
    if operation == "add":
        current_value += ctx.get_input()
    elif operation == "reset":
        current_value = 0
    elif operation == "get":
        ctx.set_result(current_value)
    else:
        # Azure's sample ignores unknown operations; telling the caller is kinder.
        raise ValueError(f"counter has no operation {operation!r}; use add, reset or get")
    ctx.set_state(current_value)


@app.orchestrator
def count_visits(ctx):
    """Input: ``{"counter": "home-page", "visits": 3}``; returns the counter's value afterwards."""
    job = ctx.get_input()
    entity_id = EntityId("counter", job["counter"])
    for _ in range(job["visits"]):
        ctx.signal_entity(entity_id, "add", 1)
    return (yield ctx.call_entity(entity_id, "get"))
