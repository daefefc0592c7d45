"""Aggregator: an entity that keeps a running summary of the values sent to it.

Readings arrive from many places over time (a device, a webhook, an orchestration), each as
an ``add`` signal to one ``aggregator`` entity per stream, say ``@aggregator@sensor-7``. The
entity keeps the count, sum, minimum and maximum; ``get`` answers them with the mean. No
reading is lost however many arrive at once, because an entity runs one operation at a time.

``record_readings`` feeds a batch of readings in from an orchestration: it fans out one
``add`` signal per reading without waiting, then calls ``get``, which the entity answers
after those adds (one sender's operations run in the order they were sent).
"""

from __future__ import annotations

from numbers import Real

from functions import FunctionApp
from orchestrations.engine import EntityId

app = FunctionApp("aggregator")

EMPTY = {"count": 0, "sum": 0, "min": None, "max": None}


@app.entity
def aggregator(ctx):
    summary = ctx.get_state(lambda: dict(EMPTY))
    operation = ctx.operation_name
    if operation == "add":
        value = ctx.get_input()
        if not isinstance(value, Real) or isinstance(value, bool):
            raise TypeError(f"aggregator adds numbers, not {value!r}")
        summary["count"] += 1
        summary["sum"] += value
        summary["min"] = value if summary["min"] is None else min(summary["min"], value)
        summary["max"] = value if summary["max"] is None else max(summary["max"], value)
    elif operation == "get":
        ctx.set_result(with_mean(summary))
    elif operation == "reset":
        summary = dict(EMPTY)
    else:
        raise ValueError(f"aggregator has no operation {operation!r}; use add, get or reset")
    ctx.set_state(summary)


def with_mean(summary: dict) -> dict:
    mean = summary["sum"] / summary["count"] if summary["count"] else None
    return {**summary, "mean": mean}


@app.orchestrator
def record_readings(ctx):
    """Input: ``{"stream": "sensor-7", "readings": [21.5, 22.0]}``; returns the stream's summary."""
    job = ctx.get_input()
    stream = EntityId("aggregator", job["stream"])
    for reading in job["readings"]:
        ctx.signal_entity(stream, "add", reading)
    return (yield ctx.call_entity(stream, "get"))
