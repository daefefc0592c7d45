"""A function app written for Azure Functions (the Python v2 model, with the official
``azure-functions`` and ``azure-durable-functions`` packages) and nothing else: Perdura runs it
as it is (functions/azure/). tests/function_apps.py registers it; its names start with ``az_``
so that they stand apart from the other test apps' functions."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
helpers = df.Blueprint()


# Activities.


@app.activity_trigger(input_name="city")
def az_say_hello(city: str) -> str:
    return f"Hello {city}!"


@app.activity_trigger(input_name="payload")
def az_fail_always(payload: str) -> str:
    raise ValueError(f"az_fail_always refused {payload}")


@app.activity_trigger(input_name="count")
async def az_async_double(count: int) -> int:
    return count * 2


# Orchestrators: the patterns of Durable Functions' documentation.


@app.orchestration_trigger(context_name="context")
def az_chaining(context: df.DurableOrchestrationContext):
    results = []
    for city in context.get_input() or ["Tokyo", "Seattle", "London"]:
        results.append((yield context.call_activity("az_say_hello", city)))
    return results


@app.orchestration_trigger(context_name="context")
def az_fan_out_fan_in(context: df.DurableOrchestrationContext):
    count = context.get_input()
    tasks = [context.call_activity("az_async_double", number) for number in range(count)]
    doubled = yield context.task_all(tasks)
    return sum(doubled)


@app.orchestration_trigger(context_name="context")
def az_parent(context: df.DurableOrchestrationContext):
    first = yield context.call_sub_orchestrator("az_chaining", ["Oslo"])
    second = yield context.call_sub_orchestrator("az_chaining", ["Lima", "Cairo"], f"{context.instance_id}-child")
    return first + second


@app.orchestration_trigger(context_name="context")
def az_human_interaction(context: df.DurableOrchestrationContext):
    deadline = context.current_utc_datetime + timedelta(seconds=context.get_input() or 3600)
    timeout = context.create_timer(deadline)
    approval = context.wait_for_external_event("Approval")
    winner = yield context.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
        return f"approved: {approval.result}"
    return "timed out"


@app.orchestration_trigger(context_name="context")
def az_retry(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=10, max_number_of_attempts=3)
    try:
        yield context.call_activity_with_retry("az_fail_always", options, "x")
    except Exception as error:
        return f"gave up: {error}"
    return "succeeded"


@app.orchestration_trigger(context_name="context")
def az_eternal(context: df.DurableOrchestrationContext):
    generation = context.get_input() or 0
    context.set_custom_status({"generation": generation})
    yield context.call_activity("az_say_hello", f"generation {generation}")
    if generation < 2:
        context.continue_as_new(generation + 1)
        return None
    return f"ended at generation {generation}"


@app.orchestration_trigger(context_name="context")
def az_counter_user(context: df.DurableOrchestrationContext):
    entity = df.EntityId("az_counter", context.get_input())
    context.signal_entity(entity, "add", 3)
    context.signal_entity(entity, "add", 4)
    return (yield context.call_entity(entity, "get"))


@app.orchestration_trigger(context_name="context")
def az_failing(context: df.DurableOrchestrationContext):
    yield context.call_activity("az_say_hello", "before the failure")
    raise RuntimeError("the Azure orchestrator failed on purpose")


@app.orchestration_trigger(context_name="context")
def az_new_uuid_and_time(context: df.DurableOrchestrationContext):
    first = context.new_uuid()
    echoed = yield context.call_activity("az_say_hello", first)
    return {"uuids": [first, context.new_uuid()], "echoed": echoed, "now": context.current_utc_datetime.isoformat()}


@app.activity_trigger(input_name="check")
def az_check_job(check: int) -> str:
    return "done" if check >= 3 else "running"


@app.orchestration_trigger(context_name="context")
def az_monitor(context: df.DurableOrchestrationContext):
    """Checks a job every tenth of a second until it is done (on the third check)."""
    check = 0
    while True:
        check += 1
        status = yield context.call_activity("az_check_job", check)
        context.set_custom_status({"check": check, "status": status})
        if status == "done":
            return check
        yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=100))


# Entities.


@app.entity_trigger(context_name="context")
def az_counter(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += context.get_input()
    elif operation == "reset":
        value = 0
    elif operation == "get":
        context.set_result(value)
    else:
        raise ValueError(f"az_counter has no operation {operation}")
    context.set_state(value)


# Functions run by events.


@app.route(route="az/hello/{name}", methods=["GET"])
def az_http_hello(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("name")
    greeting = req.params.get("greeting", "Hello")
    return func.HttpResponse(f"{greeting} {name}", status_code=200, headers={"X-From": "azure"}, mimetype="text/plain")


@app.route(route="az/echo", methods=["POST"])
def az_http_echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.get_body(), status_code=201, mimetype=req.headers.get("content-type", "text/plain"))


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=False)
def az_yearly(timer: func.TimerRequest) -> None:
    logging.getLogger(__name__).info("past due: %s", timer.past_due)


@helpers.queue_trigger(arg_name="msg", queue_name="az-orders", connection="AzureWebJobsStorage")
@helpers.queue_output(arg_name="receipts", queue_name="az-receipts", connection="AzureWebJobsStorage")
def az_order_consumer(msg: func.QueueMessage, receipts: func.Out[str]) -> None:
    order = msg.get_json()
    receipts.set(f"received {order['id']} on delivery {msg.dequeue_count}")


app.register_functions(helpers)


@app.route(route="az/start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def az_http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], client_input=req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.route(route="az/status/{instance_id}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def az_http_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    status = await client.get_status(req.route_params["instance_id"])
    return func.HttpResponse(
        json.dumps({"runtimeStatus": status.runtime_status.value, "output": status.output}),
        mimetype="application/json",
    )


@app.route(route="az/raise/{instance_id}/{event}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def az_http_raise(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    await client.raise_event(req.route_params["instance_id"], req.route_params["event"], req.get_json())
    return func.HttpResponse(status_code=202)


@app.route(route="az/counter/{key}", methods=["POST", "GET"])
@app.durable_client_input(client_name="client")
async def az_http_counter(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    entity = df.EntityId("az_counter", req.route_params["key"])
    if req.method == "POST":
        await client.signal_entity(entity, "add", req.get_json())
        return func.HttpResponse(status_code=202)
    state = await client.read_entity_state(entity)
    return func.HttpResponse(json.dumps(state.entity_state), mimetype="application/json")


@app.orchestration_trigger(context_name="context")
def az_yields_a_number(context: df.DurableOrchestrationContext):
    yield 42  # Not a task: the SDK refuses it.


@app.orchestration_trigger(context_name="context")
def az_call_http(context: df.DurableOrchestrationContext):
    """POSTs to the URL of its input and returns the answer (the 202 polling is the engine's)."""
    response = yield context.call_http("POST", context.get_input(), content={"report": "azure", "seconds": 0.2})
    return response


@app.orchestration_trigger(context_name="context")
def az_race_with_an_older_call(context: df.DurableOrchestrationContext):
    """The second race has a timer the first one started: a compound action lists only its new
    children, so the host must still deliver the old one."""
    timer = context.create_timer(context.current_utc_datetime + timedelta(milliseconds=200))
    quick = context.call_activity("az_say_hello", "quick")
    yield context.task_any([quick, timer])
    late = yield context.task_any([timer, context.wait_for_external_event("never")])
    return "the timer fired" if late == timer else "an event came"


@app.orchestration_trigger(context_name="context")
def az_yields_a_signal(context: df.DurableOrchestrationContext):
    yield context.signal_entity(df.EntityId("az_counter", "yielded"), "add", 1)  # Nothing ever answers a signal.
