"""An HTTP-started approval: ``POST /api/shipments`` with an order starts ``approve_shipment``
(the approval sample) and answers 202 with the links to follow it, as Azure's HTTP starter
template does.

The function needs a function key (the console's Functions > Keys page, or ``durable
function-key create --function request_shipment``), sent as ``x-functions-key`` or ``code``::

    curl -X POST -H "x-functions-key: $KEY" -d '{"order_id": "A-7", "items": 2}' \\
        http://127.0.0.1:8000/api/shipments

``GET /api/shipments/{instance_id}`` reads its status back through the same client.
"""

from __future__ import annotations

import json

from functions import FunctionApp, HttpRequest, HttpResponse

app = FunctionApp("shipments_http")


@app.route(route="shipments", methods=["POST"])
@app.durable_client_input(client_name="client")
async def request_shipment(req: HttpRequest, client) -> HttpResponse:
    try:
        order = req.get_json()
    except ValueError:
        return HttpResponse("send the order as JSON", status_code=400)
    if not isinstance(order, dict) or "order_id" not in order or "items" not in order:
        return HttpResponse('an order is {"order_id": ..., "items": ...}', status_code=400)
    instance_id = await client.start_new("approve_shipment", client_input=order)
    return client.create_check_status_response(req, instance_id)


@app.route(route="shipments/{instance_id}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def shipment_status(req: HttpRequest, client) -> HttpResponse:
    status = await client.get_status(req.route_params["instance_id"])
    if status is None or not status.runtime_status:
        return HttpResponse("no such shipment", status_code=404)
    body = {"status": status.runtime_status.value, "stage": status.custom_status, "outcome": status.output}
    return HttpResponse(json.dumps(body), mimetype="application/json")
