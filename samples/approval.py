"""Approval: a person decides a step in the console's approvals inbox.

``approve_shipment`` packs an order, then asks the ``warehouse`` group whether to ship it.
The request shows in the inbox of every approver in that group, with the order as details;
the decision comes back as ``{"approved", "by", "comment", "decided_at", "timed_out"}``. An
approved order is dispatched, a rejected one (or one nobody decided in time) goes back to
stock. Unlike ``human_interaction``, which waits for a raw external event, nobody has to
know the instance id or the event name: the console lists what waits, and records who
decided, when and why.

Input: ``{"order_id": "A-1001", "items": 3, "customer": "Ada", "timeout_hours": 24}``.
"""

from __future__ import annotations

from datetime import timedelta

from functions import FunctionApp

app = FunctionApp("warehouse_approvals")


@app.activity
def pack_shipment(order: dict) -> str:
    return f"packed {order['items']} item(s) of order {order['order_id']}"


@app.activity
def dispatch_shipment(shipment: dict) -> str:
    return f"order {shipment['order_id']} dispatched, approved by {shipment['approved_by']}"


@app.activity
def return_to_stock(order: dict) -> str:
    return f"order {order['order_id']} returned to stock"


@app.orchestrator
def approve_shipment(ctx):
    order = ctx.get_input()
    ctx.set_custom_status({"stage": "packing"})
    packed = yield ctx.call_activity("pack_shipment", order)

    ctx.set_custom_status({"stage": "waiting for the warehouse"})
    decision = yield ctx.request_approval(
        "ship",
        title=f"Ship order {order['order_id']}?",
        assignees="warehouse",
        details={"order_id": order["order_id"], "customer": order.get("customer"), "items": order["items"]},
        timeout=timedelta(hours=order.get("timeout_hours", 24)),
    )

    if decision["approved"]:
        ctx.set_custom_status({"stage": "dispatching"})
        outcome = yield ctx.call_activity(
            "dispatch_shipment", {"order_id": order["order_id"], "approved_by": decision["by"]}
        )
    else:
        ctx.set_custom_status({"stage": "returning to stock"})
        outcome = yield ctx.call_activity("return_to_stock", order)
    ctx.set_custom_status({"stage": "done"})
    return {"packed": packed, "outcome": outcome, "decision": decision}
