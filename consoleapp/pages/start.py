"""The start form: start an orchestration by name, with an id, a version and JSON input."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
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
    form = forms.StartForm(request.POST)
    # What was typed goes back into the form if it is refused.
    values = {name: str(form[name].value() or "").strip() for name in form.fields}
    if not form.is_valid():
        return _refused(request, values, forms.first_error(form), 400)
    try:
        instance_id = services.start(
            form.cleaned_data["name"],
            form.cleaned_data["input"],
            instance_id=form.cleaned_data["instance_id"] or None,
            version=form.cleaned_data["version"],
            actor=Actor.for_user(request.user),
        )
    except services.OrchestrationError as error:
        return _refused(request, values, str(error), 403 if isinstance(error, services.NotAllowedError) else 400)
    messages.success(request, f"Started {form.cleaned_data['name']}.")
    return redirect("instance", instance_id)


def _refused(request: HttpRequest, values: dict[str, str], error: str, status: int) -> HttpResponse:
    return render(request, "orchestrations/start.html", {**_start_context(**values), "error": error}, status=status)
