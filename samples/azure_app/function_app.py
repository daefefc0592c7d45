"""A small shop's back office, written as an Azure Functions app (the Python v2 model, with the
``azure-functions`` and ``azure-functions-durable`` packages) and nothing else: the same file
deploys to Azure, and Perdura runs it as it is. Load it beside the other samples with
``PERDURA_FUNCTION_APPS=samples,samples.azure_app.function_app``.

One function or group of functions per trigger and per Durable Functions pattern, each name
starting with ``azsample_``:

- ``POST /api/azure/orchestrators/{functionName}`` starts any orchestrator with the JSON body
  as its input and answers 202 with the links to follow it.
- Chaining (``azsample_chaining``): an order is priced, discounted and invoiced, each step
  taking the one before's result.
- Fan-out/fan-in (``azsample_fan_out_fan_in``): the words of many documents counted in
  parallel and added up.
- Sub-orchestrations (``azsample_sub_orchestration``): a batch of orders, each invoiced by
  ``azsample_chaining`` as a child.
- Human interaction (``azsample_human_interaction``): waits for an "Approval" event, which
  ``POST /api/azure/approvals/{instance_id}`` raises, or escalates when its timer fires first.
- Monitor (``azsample_monitor``, in a blueprint): polls an export until it is ready or the
  monitor expires.
- Eternal orchestration (``azsample_eternal``): tidies up, sleeps, and continues as new.
- Entity (``azsample_counter``): a counter, signalled by ``POST /api/azure/counters/{key}/{op}``
  and read by ``GET /api/azure/counters/{key}``.
- Timer (``azsample_new_year``): resets the "visits" counter once a year.
- Queue (``azsample_pack_order``): packs each order put on ``azsample-orders`` and puts its
  shipment on ``azsample-shipments``.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

#: Orders of this subtotal (in cents) or more get the discount.
DISCOUNT_FROM_CENTS = 10_000
DISCOUNT_PERCENT = 10
#: How many items go in one parcel.
ITEMS_PER_PARCEL = 5


# The HTTP starter.


@app.route(route="azure/orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def azsample_http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params["functionName"]
    # Anonymous, and the client acts with the whole management API's rights: this starter
    # starts this app's orchestrators only, not any other the deployment runs.
    if not name.startswith("azsample_"):
        return func.HttpResponse(f"no orchestrator of this sample is named {name!r}", status_code=404)
    try:
        payload = req.get_json()
    except ValueError:
        payload = None  # No body, or not JSON: the orchestrator starts without an input.
    instance_id = await client.start_new(name, client_input=payload)
    logging.info("started %s as %s", name, instance_id)
    return client.create_check_status_response(req, instance_id)


# Function chaining: an order is priced, then discounted, then invoiced.


@app.orchestration_trigger(context_name="context")
def azsample_chaining(context: df.DurableOrchestrationContext):
    """Input: ``{"id": "A-1", "lines": [{"sku": "tea", "qty": 2, "unit_cents": 450}]}``."""
    priced = yield context.call_activity("azsample_price_order", context.get_input())
    discounted = yield context.call_activity("azsample_apply_discount", priced)
    return (yield context.call_activity("azsample_write_invoice", discounted))


@app.activity_trigger(input_name="order")
def azsample_price_order(order: dict) -> dict:
    subtotal = sum(line["qty"] * line["unit_cents"] for line in order["lines"])
    return {"id": order["id"], "subtotal_cents": subtotal}


@app.activity_trigger(input_name="priced")
def azsample_apply_discount(priced: dict) -> dict:
    subtotal = priced["subtotal_cents"]
    discount = subtotal * DISCOUNT_PERCENT // 100 if subtotal >= DISCOUNT_FROM_CENTS else 0
    return {**priced, "discount_cents": discount, "total_cents": subtotal - discount}


@app.activity_trigger(input_name="invoice")
def azsample_write_invoice(invoice: dict) -> str:
    return (
        f"Invoice {invoice['id']}: {invoice['total_cents'] / 100:.2f} (discount {invoice['discount_cents'] / 100:.2f})"
    )


# Fan-out/fan-in: one activity per document, all at once, then the sum.


@app.orchestration_trigger(context_name="context")
def azsample_fan_out_fan_in(context: df.DurableOrchestrationContext):
    """Input: a list of texts."""
    documents = context.get_input() or []
    if not documents:
        return {"documents": 0, "words": 0, "longest": 0}
    counts = yield context.task_all([context.call_activity("azsample_count_words", text) for text in documents])
    return {"documents": len(documents), "words": sum(counts), "longest": max(counts)}


@app.activity_trigger(input_name="text")
def azsample_count_words(text: str) -> int:
    return len(text.split())


# Sub-orchestrations: each order of a batch is invoiced by its own child instance.


@app.orchestration_trigger(context_name="context")
def azsample_sub_orchestration(context: df.DurableOrchestrationContext):
    """Input: a list of orders, as azsample_chaining takes them."""
    children = [
        context.call_sub_orchestrator("azsample_chaining", order, f"{context.instance_id}-{order['id']}")
        for order in context.get_input()
    ]
    return (yield context.task_all(children))


# Human interaction: an approval raced against a deadline.


@app.orchestration_trigger(context_name="context")
def azsample_human_interaction(context: df.DurableOrchestrationContext):
    """Input: ``{"id": "refund-9", "approver": "ada", "timeout_seconds": 86400}``."""
    request = context.get_input()
    yield context.call_activity("azsample_request_approval", request)
    deadline = context.current_utc_datetime + timedelta(seconds=request.get("timeout_seconds", 86400))
    timeout = context.create_timer(deadline)
    approval = context.wait_for_external_event("Approval")
    winner = yield context.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()  # Otherwise the instance would stay open until the deadline.
        decision = approval.result or {}
        outcome = "approved" if decision.get("approved") else "rejected"
        return {"request": request["id"], "outcome": outcome, "by": decision.get("by")}
    escalated_to = yield context.call_activity("azsample_escalate", request)
    return {"request": request["id"], "outcome": "escalated", "by": escalated_to}


@app.activity_trigger(input_name="request")
def azsample_request_approval(request: dict) -> str:
    # A real app would send the approver a message with a link that raises the event.
    message = f"{request['approver']}, please approve {request['id']}"
    logging.info(message)
    return message


@app.activity_trigger(input_name="request")
def azsample_escalate(request: dict) -> str:
    logging.warning("nobody approved %s in time", request["id"])
    return "the duty manager"


@app.route(route="azure/approvals/{instance_id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def azsample_http_approve(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Body: ``{"approved": true, "by": "ada"}``. Only this sample's approval requests take it."""
    instance_id = req.route_params["instance_id"]
    status = await client.get_status(instance_id)
    if not status or status.name != "azsample_human_interaction":
        return func.HttpResponse(f"no approval request of this sample is {instance_id!r}", status_code=404)
    await client.raise_event(instance_id, "Approval", req.get_json())
    return func.HttpResponse(status_code=202)


# Monitor, in a blueprint: poll an export until it is ready or the monitor expires.

monitoring = df.Blueprint()


@monitoring.orchestration_trigger(context_name="context")
def azsample_monitor(context: df.DurableOrchestrationContext):
    """Input: ``{"export": "sales-2024", "interval_seconds": 60, "expiry_seconds": 3600,
    "ready_on_check": 3}``."""
    job = context.get_input()
    # From the first episode's clock, so that every replay computes the same expiry.
    expires_at = context.current_utc_datetime + timedelta(seconds=job.get("expiry_seconds", 3600))
    # A check that fails (the export service briefly away) is tried again before the monitor fails.
    retry = df.RetryOptions(first_retry_interval_in_milliseconds=5000, max_number_of_attempts=3)
    checks = 0
    while True:
        checks += 1
        status = yield context.call_activity_with_retry("azsample_check_export", retry, {**job, "check": checks})
        context.set_custom_status({"export": job["export"], "checks": checks, "status": status})
        if status == "ready":
            return {"export": job["export"], "status": "ready", "checks": checks}
        next_check = context.current_utc_datetime + timedelta(seconds=job.get("interval_seconds", 60))
        if next_check > expires_at:
            return {"export": job["export"], "status": "expired", "checks": checks}
        yield context.create_timer(next_check)


@monitoring.activity_trigger(input_name="check")
def azsample_check_export(check: dict) -> str:
    """Where the export is. This simulated one is ready on check number ``ready_on_check``, so
    that a run is reproducible; a real activity would ask the system doing the export."""
    return "ready" if check["check"] >= check["ready_on_check"] else "running"


app.register_functions(monitoring)


# Eternal orchestration: tidy up, sleep, start over as a new generation.


@app.orchestration_trigger(context_name="context")
def azsample_eternal(context: df.DurableOrchestrationContext):
    """Input: ``{"round": 1, "interval_seconds": 3600}``; with ``"rounds": n`` it stops after
    round n (a real one runs until it is terminated)."""
    job = context.get_input() or {}
    round_number = job.get("round", 1)
    summary = yield context.call_activity("azsample_tidy_up", round_number)
    context.set_custom_status({"round": round_number, "summary": summary})
    if round_number == job.get("rounds"):
        return summary
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=job.get("interval_seconds", 3600)))
    # A new generation with an empty history, so that the history never grows without end.
    context.continue_as_new({**job, "round": round_number + 1})


@app.activity_trigger(input_name="round_number")
def azsample_tidy_up(round_number: int) -> str:
    return f"round {round_number}: expired carts removed"


# Entity: a counter, and the HTTP functions that signal it and read it.


@app.entity_trigger(context_name="context")
def azsample_counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += context.get_input()
    elif operation == "reset":
        value = 0
    else:
        raise ValueError(f"azsample_counter has no operation {operation!r}")
    context.set_state(value)


@app.route(route="azure/counters/{key}/{operation}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def azsample_http_signal_counter(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Body: the operation's input (``5`` for ``add``), or none."""
    try:
        operation_input = req.get_json()
    except ValueError:
        operation_input = None
    entity = df.EntityId("azsample_counter", req.route_params["key"])
    await client.signal_entity(entity, req.route_params["operation"], operation_input)
    return func.HttpResponse(status_code=202)


@app.route(route="azure/counters/{key}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def azsample_http_read_counter(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    key = req.route_params["key"]
    state = await client.read_entity_state(df.EntityId("azsample_counter", key))
    body = {"key": key, "exists": state.entity_exists, "value": state.entity_state}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


# Timer: at midnight on the first of January, the visits counter starts again from zero.


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=False)
@app.durable_client_input(client_name="client")
async def azsample_new_year(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    if timer.past_due:
        logging.info("the new year's reset is late")
    await client.signal_entity(df.EntityId("azsample_counter", "visits"), "reset")


# Queue: each order is packed into parcels, and its shipment goes on to the next queue.


@app.queue_trigger(arg_name="msg", queue_name="azsample-orders", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="shipments", queue_name="azsample-shipments", connection="AzureWebJobsStorage")
def azsample_pack_order(msg: func.QueueMessage, shipments: func.Out[str]) -> None:
    """Message: an order, as azsample_chaining takes it."""
    order = msg.get_json()
    items = sum(line["qty"] for line in order["lines"])
    parcels = math.ceil(items / ITEMS_PER_PARCEL)
    shipments.set(json.dumps({"order": order["id"], "items": items, "parcels": parcels}))
