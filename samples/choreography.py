"""Choreography: independent orchestrations that coordinate by sending each other events,
with no parent directing them.

``checkout_order`` charges the customer, tells the order's shipping instance (id
``shipping-<order id>``, started on its own beforehand) that the order is paid with
``ctx.send_event``, and waits for it to answer ``OrderShipped``. ``ship_order`` waits for
``OrderPaid``, books a courier and sends the tracking number back to whoever paid.
"""

from __future__ import annotations

from functions import FunctionApp

app = FunctionApp("order_fulfilment")


def shipping_instance_id(order_id: str) -> str:
    """Both sides derive the shipping instance's id from the order id; neither starts the other."""
    return f"shipping-{order_id}"


@app.activity
def charge_customer(order: dict) -> str:
    """Take the payment; return the payment reference. A real app would call a payment provider."""
    return f"PAY-{order['order_id']}"


@app.activity
def book_courier(shipment: dict) -> str:
    """Book a courier to the address; return the tracking number."""
    return f"TRACK-{shipment['order_id']}"


@app.orchestrator
def checkout_order(ctx):
    """Input: ``{"order_id": "1001", "address": "1 Main St"}``."""
    order = ctx.get_input()
    payment = yield ctx.call_activity("charge_customer", order)
    ctx.send_event(
        shipping_instance_id(order["order_id"]),
        "OrderPaid",
        {"order_id": order["order_id"], "address": order["address"], "reply_to": ctx.instance_id},
    )
    shipped = yield ctx.wait_for_external_event("OrderShipped")
    return {"order_id": order["order_id"], "payment": payment, "tracking_number": shipped["tracking_number"]}


@app.orchestrator
def ship_order(ctx):
    """Waits for the order to be paid; needs no input."""
    paid = yield ctx.wait_for_external_event("OrderPaid")
    tracking_number = yield ctx.call_activity("book_courier", paid)
    ctx.send_event(paid["reply_to"], "OrderShipped", {"tracking_number": tracking_number})
    return {"order_id": paid["order_id"], "address": paid["address"], "tracking_number": tracking_number}
