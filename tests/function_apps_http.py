"""HTTP functions used by the tests of HTTP triggers (tests/functions/test_http_*.py). Every
route starts with ``httptest/``; worker processes import this module too (through
tests/function_apps.py), for the orchestrations the starter below starts."""

from __future__ import annotations

import logging

from functions import AuthLevel, EntityId, FunctionApp, HttpRequest, HttpResponse, Out

app = FunctionApp("tests-http")
logger = logging.getLogger(__name__)


@app.route(route="httptest/hello", methods=["GET"], auth_level=AuthLevel.ANONYMOUS)
def http_hello(req: HttpRequest) -> str:
    return f"hello {req.params.get('name', 'world')}"


@app.route(route="httptest/orders/{id:int}", methods=["GET"], auth_level=AuthLevel.ANONYMOUS)
def http_order(req: HttpRequest) -> dict:
    return {"id": int(req.route_params["id"]), "route": "typed"}


@app.route(route="httptest/orders/latest", methods=["GET"], auth_level=AuthLevel.ANONYMOUS)
def http_latest_order(req: HttpRequest) -> dict:
    return {"route": "literal"}


@app.route(route="httptest/orders/{name}", methods=["GET", "DELETE"], auth_level=AuthLevel.ANONYMOUS)
def http_order_by_name(req: HttpRequest) -> dict:
    return {"name": req.route_params["name"], "route": "untyped"}


@app.route(route="httptest/pages/{page?}", auth_level=AuthLevel.ANONYMOUS)
def http_page(req: HttpRequest) -> dict:
    return {"page": req.route_params.get("page")}


@app.route(route="httptest/files/{*path}", auth_level=AuthLevel.ANONYMOUS)
def http_file(req: HttpRequest) -> dict:
    return {"path": req.route_params.get("path", "")}


@app.route(route="httptest/echo", methods=["POST"], auth_level=AuthLevel.ANONYMOUS)
def http_echo(req: HttpRequest) -> HttpResponse:
    return HttpResponse(
        req.get_body(), status_code=201, headers={"X-Echo": req.headers.get("x-note", "")}, mimetype="text/csv"
    )


@app.route(route="httptest/kinds/{kind}", auth_level=AuthLevel.ANONYMOUS)
def http_kinds(req: HttpRequest):
    kind = req.route_params["kind"]
    return {
        "text": "plain text",
        "bytes": b"\x00\x01binary",
        "none": None,
        "json": {"items": [1, 2.5, "three", None, True]},
        "list": [1, 2, 3],
        "response": HttpResponse("made", status_code=418, headers={"X-Kind": "response"}),
        "unserialisable": {1, 2, 3},
    }[kind]


@app.route(route="httptest/async/{name}", auth_level=AuthLevel.ANONYMOUS)
async def http_async(req: HttpRequest) -> dict:
    return {"hello": req.route_params["name"], "async": True}


@app.route(route="httptest/boom", auth_level=AuthLevel.ANONYMOUS)
def http_boom(req: HttpRequest) -> str:
    logger.warning("about to fail")
    raise RuntimeError("the secret detail of a failure")


@app.route(route="httptest/secured", auth_level=AuthLevel.FUNCTION)
def http_secured(req: HttpRequest) -> str:
    return "function level"


@app.route(route="httptest/other-secured", auth_level=AuthLevel.FUNCTION)
def http_other_secured(req: HttpRequest) -> str:
    return "another function"


@app.route(route="httptest/admin", auth_level=AuthLevel.ADMIN)
def http_admin(req: HttpRequest) -> str:
    return "admin level"


@app.route(route="httptest/enqueue", methods=["POST"], auth_level=AuthLevel.ANONYMOUS)
@app.queue_output(arg_name="outbox", queue_name="httptest-outbox")
def http_enqueue(req: HttpRequest, outbox: Out[list]) -> str:
    outbox.set(req.get_json())
    return "queued"


@app.route(route="httptest/start/{name}", methods=["POST"], auth_level=AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_start(req: HttpRequest, client) -> HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], client_input=req.get_json())
    return client.create_check_status_response(req, instance_id)


@app.route(route="httptest/run/{name}", methods=["POST"], auth_level=AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_run_and_wait(req: HttpRequest, client) -> HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], client_input=req.get_json())
    return await client.wait_for_completion_or_create_check_status_response(
        req, instance_id, timeout_in_milliseconds=90000, retry_interval_in_milliseconds=100
    )


@app.route(route="httptest/status/{instance_id}", methods=["GET"], auth_level=AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_status(req: HttpRequest, client) -> dict:
    status = await client.get_status(req.route_params["instance_id"])
    if not status:
        return {"exists": False}
    return {"exists": True, "runtimeStatus": status.runtime_status.value, "output": status.output}


@app.route(route="httptest/entity/{key}", methods=["POST", "GET"], auth_level=AuthLevel.ANONYMOUS)
@app.durable_client_input(client_name="client")
async def http_entity(req: HttpRequest, client) -> dict:
    entity_id = EntityId("httptest_counter", req.route_params["key"])
    if req.method == "POST":
        await client.signal_entity(entity_id, "add", req.get_json())
        return {"signalled": True}
    state = await client.read_entity_state(entity_id)
    return {"exists": state.entity_exists, "state": state.entity_state}


@app.entity
def httptest_counter(ctx):
    if ctx.operation_name == "add":
        ctx.set_state((ctx.get_state(lambda: 0)) + ctx.get_input())


@app.orchestrator
def httptest_orders(ctx):
    return {"ordered": ctx.get_input()}


# A user route in the place of the built-in starter: it takes precedence.
@app.route(route="orchestrators/httptest_shadowed", methods=["POST"], auth_level=AuthLevel.ANONYMOUS)
def http_shadows_starter(req: HttpRequest) -> dict:
    return {"served_by": "user route"}


@app.route(route="httptest/limited", methods=["GET"], auth_level=AuthLevel.ANONYMOUS, max_concurrency=1)
def httptest_limited(req: HttpRequest) -> str:
    return "ran"
