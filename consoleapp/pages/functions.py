"""Console pages for function apps: the apps and their functions by kind, recent activity
executions, and one execution with its input, output and traceback."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from consoleapp.pages.common import json_download, live_url, require_permission
from functions.models import AppRecord, Function, Invocation
from orchestrations.services import paging

PAGE_SIZE = 50


@login_required
@require_GET
def function_apps(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    since = timezone.now() - timedelta(hours=1)
    stats = {
        row["function_name"]: row
        for row in Invocation.objects.filter(started_at__gte=since)
        .values("function_name")
        .annotate(
            runs=Count("pk"),
            failures=Count("pk", filter=Q(status=Invocation.Status.FAILED)),
            average=Avg(_duration()),
        )
        .order_by()
    }
    apps = []
    for app in AppRecord.objects.prefetch_related("functions"):
        functions = sorted(app.functions.all(), key=lambda f: (list(Function.Kind.values).index(f.kind), f.name))
        apps.append({"app": app, "functions": functions})
    context = {
        "apps": apps,
        "stats": stats,
        "recent": list(Invocation.objects.order_by("-started_at", "-pk")[:15]),
        "nav": "functions",
        "live_url": live_url("nav"),
    }
    return render(request, "functions/apps.html", context)


def _duration() -> ExpressionWrapper:
    return ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())


@login_required
@require_GET
def executions(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    filters = {key: (request.GET.get(key) or "").strip() for key in ("function", "status", "instance")}
    rows = Invocation.objects.all()
    if filters["function"]:
        rows = rows.filter(function_name=filters["function"])
    if filters["status"]:
        rows = rows.filter(status=filters["status"])
    if filters["instance"]:
        rows = rows.filter(instance_id=filters["instance"])
    page = paging.newest_first(rows, "started_at", request.GET.get("after"), PAGE_SIZE)
    next_url = None
    if page.next_token:
        params = [(key, value) for key, value in filters.items() if value]
        next_url = f"{reverse('executions')}?{urlencode([*params, ('after', page.next_token)])}"
    context = {
        "executions": page.rows,
        "filters": filters,
        "next_url": next_url,
        "is_first_page": page.is_first,
        "function_names": sorted(
            Function.objects.filter(kind=Function.Kind.ACTIVITY).values_list("name", flat=True).distinct()
        ),
        "statuses": Invocation.Status.values,
        "nav": "functions",
        "live_url": live_url("nav"),
    }
    return render(request, "functions/executions.html", context)


@login_required
@require_GET
def execution_detail(request: HttpRequest, execution_id: int) -> HttpResponse:
    require_permission(request.user, "view_console")
    execution = get_object_or_404(Invocation, pk=execution_id)
    attempts = Invocation.objects.filter(instance_id=execution.instance_id, task_id=execution.task_id).order_by(
        "started_at", "pk"
    )
    context = {"execution": execution, "attempts": list(attempts), "nav": "functions", "live_url": live_url("nav")}
    return render(request, "functions/execution.html", context)


EXECUTION_DOWNLOADS = {
    "input": lambda execution: execution.input,
    "output": lambda execution: execution.output,
}


@login_required
@require_GET
def execution_download(request: HttpRequest, execution_id: int, part: str) -> HttpResponse:
    """An activity run's input or output, whole, for the page that shows it cut."""
    require_permission(request.user, "view_console")
    execution = get_object_or_404(Invocation, pk=execution_id)
    if part not in EXECUTION_DOWNLOADS:
        raise Http404("nothing to download by that name")
    return json_download(EXECUTION_DOWNLOADS[part](execution), f"execution-{execution.pk}-{part}.json")
