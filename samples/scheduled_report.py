"""A timer that starts an orchestration: every minute, ``start_stock_report`` starts
``stock_report``, which counts stock in three warehouses at once and sums the counts.

A timer function runs once per occurrence however many workers run; after downtime it runs
once with ``past_due`` set rather than once per missed minute.
"""

from __future__ import annotations

import logging

from functions import FunctionApp, TimerRequest

app = FunctionApp("stock_reports")
logger = logging.getLogger(__name__)

WAREHOUSES = ["north", "south", "east"]


@app.timer_trigger(schedule="0 * * * * *", arg_name="timer")
@app.durable_client_input(client_name="client")
async def start_stock_report(timer: TimerRequest, client) -> None:
    if timer.past_due:
        logger.info("this report is late: the workers were down at its time")
    instance_id = await client.start_new("stock_report", client_input={"warehouses": WAREHOUSES})
    logger.info("started stock report %s", instance_id)


@app.activity
def count_stock(warehouse: str) -> int:
    # A stand-in for a query against the warehouse's system.
    return 100 + 10 * WAREHOUSES.index(warehouse) if warehouse in WAREHOUSES else 0


@app.orchestrator
def stock_report(ctx):
    warehouses = ctx.get_input()["warehouses"]
    counts = yield ctx.task_all([ctx.call_activity("count_stock", name) for name in warehouses])
    return {"total": sum(counts), "by_warehouse": dict(zip(warehouses, counts, strict=True))}
