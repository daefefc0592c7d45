"""The start form: start an orchestration by name, with an id, a version and JSON input."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from consoleapp.pages.common import live_url, require_permission
from functions.registry import FunctionKind, registry
from orchestrations import services
from orchestrations.access.audit import Actor


@login_required
@require_GET
def start_form(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "start_instance")
    return render(request, "orchestrations/start.html", _start_context(name=request.GET.get("name", "")))


def _start_context(**values) -> dict:
    return {
        "orchestrator_names": registry.names(FunctionKind.ORCHESTRATOR),
        "values": {"name": "", "instance_id": "", "version": "", "input": "", **values},
        "live_url": live_url("nav"),
        "nav": "orchestrations",
    }


@require_POST
@login_required
def start(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "start_instance")
    values = {key: request.POST.get(key, "").strip() for key in ("name", "instance_id", "version", "input")}
    try:
        payload = services.parse_json(values["input"] or "null", "the input")
        instance_id = services.start(
            values["name"],
            payload,
            instance_id=values["instance_id"] or None,
            version=values["version"],
            actor=Actor.for_user(request.user),
        )
    except services.OrchestrationError as error:
        status = 403 if isinstance(error, services.NotAllowedError) else 400
        return render(
            request, "orchestrations/start.html", {**_start_context(**values), "error": str(error)}, status=status
        )
    messages.success(request, f"Started {values['name']}.")
    return redirect("instance", instance_id)
