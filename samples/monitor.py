"""Monitor: a durable polling loop that watches an external condition until it holds or the
monitor expires.

``track_shipment`` asks the carrier for a parcel's status, publishes it as the instance's
custom status (so the console shows progress), and sleeps on a durable timer before asking
again. When the parcel is delivered it notifies the customer; when the next check would fall
after the expiry it gives up. Unlike a cron job, each instance has its own interval and
expiry, taken from its input, and stops by itself.
"""

from __future__ import annotations

from datetime import timedelta

from functions import FunctionApp

app = FunctionApp("shipment_monitor")


@app.activity
def get_shipment_status(check: dict) -> str:
    """Ask the carrier where the parcel is. The simulated carrier delivers it on check number
    ``delivered_on_check`` (from the monitor's input), so a run is reproducible; a real
    activity would call the carrier's tracking API."""
    return "Delivered" if check["check"] >= check["delivered_on_check"] else "InTransit"


@app.activity
def notify_customer(shipment: str) -> str:
    return f"Told the customer that shipment {shipment} was delivered"


@app.orchestrator
def track_shipment(ctx):
    """Input: ``{"shipment": "PKG-1", "interval_seconds": 60, "expiry_seconds": 3600,
    "delivered_on_check": 3}``."""
    job = ctx.get_input()
    interval = timedelta(seconds=job["interval_seconds"])
    # Computed from the first episode's time, so every replay agrees on it.
    expires_at = ctx.current_utc_datetime + timedelta(seconds=job["expiry_seconds"])
    check = 0
    while True:
        check += 1
        status = yield ctx.call_activity(
            "get_shipment_status",
            {"shipment": job["shipment"], "check": check, "delivered_on_check": job["delivered_on_check"]},
        )
        ctx.set_custom_status({"shipment": job["shipment"], "checks": check, "status": status})
        if status == "Delivered":
            notification = yield ctx.call_activity("notify_customer", job["shipment"])
            return {"shipment": job["shipment"], "delivered": True, "checks": check, "notification": notification}
        next_check = ctx.current_utc_datetime + interval
        if next_check > expires_at:
            return {"shipment": job["shipment"], "delivered": False, "checks": check, "notification": None}
        yield ctx.create_timer(next_check)
