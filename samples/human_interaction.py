"""Human interaction: wait for a person's decision, but not forever.

``approve_purchase_order`` asks a manager to approve a purchase order, then races the
manager's ``Approval`` event against a durable timer. If the decision comes first the timer
is cancelled and the decision is recorded; if the timer fires first the order is escalated.
Raise the event with ``services.raise_event(instance_id, "Approval", {"approved": true,
"approver": "maria"})``.
"""

from __future__ import annotations

from datetime import timedelta

from functions import FunctionApp

app = FunctionApp("purchase_approvals")


@app.activity
def request_purchase_approval(order: dict) -> str:
    """Tell the approver there is something to decide. A real app would send an email or a
    chat message with a link to the console's approvals inbox."""
    return f"Asked for approval of {order['purchase_order']} ({order['amount']} EUR)"


@app.activity
def record_purchase_decision(decision: dict) -> str:
    verdict = "approved" if decision["approved"] else "rejected"
    return f"{decision['purchase_order']} {verdict} by {decision['approver']}"


@app.activity
def escalate_purchase_order(order: dict) -> str:
    return f"{order['purchase_order']} escalated to the finance director: no decision in time"


@app.orchestrator
def approve_purchase_order(ctx):
    """Input: ``{"purchase_order": "PO-1001", "amount": 2500, "timeout_seconds": 86400}``."""
    order = ctx.get_input()
    yield ctx.call_activity("request_purchase_approval", order)

    approval = ctx.wait_for_external_event("Approval")
    deadline = ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=order["timeout_seconds"]))
    winner = yield ctx.task_any([approval, deadline])

    if winner is approval:
        # Nobody waits for the timer any more; cancelling it says so.
        deadline.cancel()
        decision = approval.result
        return (
            yield ctx.call_activity(
                "record_purchase_decision",
                {
                    "purchase_order": order["purchase_order"],
                    "approved": bool(decision.get("approved")),
                    "approver": decision.get("approver", "unknown"),
                },
            )
        )
    return (yield ctx.call_activity("escalate_purchase_order", order))
