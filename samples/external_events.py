"""External events: an orchestration driven by several named events from outside.

``shopping_basket`` opens a basket, then collects ``AddItem`` events until a ``Checkout``
event closes it, and prices what was collected. Events raised before the orchestrator waits
for them (while the basket is being opened, say) are buffered in order and handed to the
next wait for that name, so a fast client loses nothing.

Two details matter: the ``Checkout`` wait is created once, outside the loop, so that one
pending task receives the event whenever it comes; and it is listed after ``AddItem`` in
``task_any``, so items already buffered when checkout arrives are taken first. Send
``Checkout`` last: items raised after it may be ignored.
"""

from __future__ import annotations

from functions import FunctionApp

app = FunctionApp("shopping_basket")

#: The simulated catalogue: prices in cents.
PRICES = {"apple": 50, "bread": 250, "cheese": 700, "milk": 120}


@app.activity
def open_basket(customer: str) -> str:
    """Create the basket; return its id. A real app would insert a row here."""
    return f"basket-{customer}"


@app.activity
def price_basket(items: list[dict]) -> int:
    """The basket's total in cents. An unknown product fails the activity (and the order)."""
    return sum(PRICES[item["product"]] * item["quantity"] for item in items)


@app.orchestrator
def shopping_basket(ctx):
    """Input: ``{"customer": "ada"}``. Events: ``AddItem`` with ``{"product": "apple",
    "quantity": 3}`` any number of times, then ``Checkout`` (any data)."""
    customer = ctx.get_input()["customer"]
    basket_id = yield ctx.call_activity("open_basket", customer)

    checkout = ctx.wait_for_external_event("Checkout")
    items = []
    while True:
        add_item = ctx.wait_for_external_event("AddItem")
        winner = yield ctx.task_any([add_item, checkout])
        if winner is checkout:
            break
        items.append(add_item.result)
        ctx.set_custom_status({"basket": basket_id, "items": len(items)})

    total_cents = yield ctx.call_activity("price_basket", items)
    return {"basket": basket_id, "items": items, "total_cents": total_cents}
