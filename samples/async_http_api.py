"""Async HTTP API: a durable HTTP call to a service that answers "202 Accepted, ask again
later" until its long-running job is done.

``export_report`` POSTs an export request with ``ctx.call_http``. The engine sees the 202 and
its ``Location`` header, waits ``Retry-After`` seconds on a durable timer and GETs the
location again, until the answer is something other than 202; the orchestrator only sees that
final response.

The export service is simulated by the two views below (routed in ``samples/urls.py``). It
keeps no state: the time the export becomes ready is part of the status URL it hands out, so
any web process can answer any poll. Calling the server itself works because the embedded
default's ``PERDURA_HTTP_ALLOWED_HOSTS`` lists it (``call_http`` refuses loopback and private
addresses otherwise); elsewhere, list the host that serves these views.
"""

from __future__ import annotations

import json
import time

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from functions import FunctionApp

app = FunctionApp("report_exports")

#: How long the simulated service asks its clients to wait between polls, in seconds.
RETRY_AFTER_SECONDS = 1
#: The longest export the simulated service accepts, in seconds.
MAX_EXPORT_SECONDS = 60


@app.orchestrator
def export_report(ctx):
    """Input: ``{"base_url": "http://host:port", "report": "sales", "seconds": 2}``; the export
    takes ``seconds`` to be ready."""
    request = ctx.get_input()
    response = yield ctx.call_http(
        "POST",
        f"{request['base_url'].rstrip('/')}/samples/exports/",
        content={"report": request["report"], "seconds": request.get("seconds", 2)},
    )
    if response.status_code != 200:
        raise RuntimeError(f"the export service answered {response.status_code}: {response.content}")
    return json.loads(response.content)


# The simulated export service.


@csrf_exempt  # A machine-to-machine API: its callers have no CSRF token.
@require_POST
def start_export(request: HttpRequest) -> HttpResponse:
    """Accept an export job; answer 202 with where to ask for its status."""
    try:
        body = json.loads(request.body)
        report = str(body["report"])
        seconds = float(body.get("seconds", 2))
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'send JSON like {"report": "sales", "seconds": 2}'}, status=400)
    if not report.replace("-", "").replace("_", "").isalnum():
        return JsonResponse({"error": "a report name has letters, digits, '-' and '_' only"}, status=400)
    if not 0 <= seconds <= MAX_EXPORT_SECONDS:
        return JsonResponse({"error": f"seconds must be between 0 and {MAX_EXPORT_SECONDS}"}, status=400)
    ready_at_ms = int((time.time() + seconds) * 1000)
    return _accepted(request, report, ready_at_ms)


@require_GET
def export_status(request: HttpRequest, report: str, ready_at_ms: int) -> HttpResponse:
    """202 while the export runs, then 200 with the finished export."""
    if time.time() * 1000 < ready_at_ms:
        return _accepted(request, report, ready_at_ms)
    return JsonResponse({"report": report, "status": "Ready"})


def _accepted(request: HttpRequest, report: str, ready_at_ms: int) -> HttpResponse:
    location = request.build_absolute_uri(reverse("samples:export-status", args=[report, ready_at_ms]))
    response = JsonResponse({"report": report, "status": "Running"}, status=202)
    response["Location"] = location
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
