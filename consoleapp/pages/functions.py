"""The functions console: every registered function with its trigger and recent counts; a page
per function with its invocations (live), counts, failures and p50/p95 durations as charts,
and a "Run" form; one invocation with its input, output, error and logs.

The function page's live region is a template partial rendered for the page and for every
websocket push (``render_function_live``), pushed when an INVOCATION notice names the function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import json_download, live_url, require_permission
from functions.models import Function, Invocation
from functions.registry import FunctionKind, HttpTrigger, QueueTrigger, RegisteredFunction, TimerTrigger, registry
from functions.services import invocations, run_by_hand
from orchestrations.access.audit import Actor
from orchestrations.services import paging

PAGE_SIZE = 50
#: The kinds whose runs are invocations, and so have a page of their own.
INVOKED_KINDS = (FunctionKind.HTTP, FunctionKind.TIMER, FunctionKind.QUEUE, FunctionKind.ACTIVITY)
KIND_ORDER = [FunctionKind.HTTP, FunctionKind.TIMER, FunctionKind.QUEUE, *FunctionKind]


@dataclass(frozen=True)
class FunctionRow:
    """One function as the list shows it."""

    name: str
    kind: str
    app_name: str
    trigger: str
    is_registered: bool = True
    has_page: bool = True


def describe_trigger(function: RegisteredFunction) -> str:
    """What starts the function, in a line: its route, schedule or queue."""
    trigger = function.trigger
    if isinstance(trigger, HttpTrigger):
        methods = ",".join(sorted(trigger.methods)) or "any method"
        return f"{methods} /{trigger.route.template} (auth: {trigger.auth_level.value})"
    if isinstance(trigger, TimerTrigger):
        return f"schedule {trigger.schedule.expression}"
    if isinstance(trigger, QueueTrigger):
        return f"queue {trigger.queue_name}"
    return {
        FunctionKind.ACTIVITY: "called by orchestrations",
        FunctionKind.ORCHESTRATOR: "started as instances",
        FunctionKind.ENTITY: "signalled and called",
    }.get(function.kind, "")


def function_rows() -> dict[str, list[FunctionRow]]:
    """Every registered function by app (trigger functions first), then those the database
    remembers that this process no longer loads."""
    apps: dict[str, list[FunctionRow]] = {}
    functions = sorted(registry.functions(), key=lambda f: (KIND_ORDER.index(f.kind), f.name))
    for function in functions:
        apps.setdefault(function.app_name, []).append(
            FunctionRow(
                function.name,
                str(function.kind),
                function.app_name,
                describe_trigger(function),
                has_page=function.kind in INVOKED_KINDS,
            )
        )
    for row in Function.objects.filter(is_registered=False).select_related("app"):
        apps.setdefault(row.app.name, []).append(
            FunctionRow(row.name, row.kind, row.app.name, "", is_registered=False, has_page=row.kind in INVOKED_KINDS)
        )
    return dict(sorted(apps.items()))


@login_required
@require_GET
def function_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {
        "apps": function_rows(),
        "counts": invocations.recent_counts(),
        "tallies": {f"{kind}:{name}": tally for (kind, name), tally in invocations.recent_tallies().items()},
        "recent": list(Invocation.objects.order_by("-started_at", "-pk")[:15]),
        "nav": "functions",
        "live_url": live_url("nav"),
    }
    return render(request, "functions/list.html", context)


def _function_or_404(name: str) -> RegisteredFunction | None:
    """The function named ``name`` that has invocations: registered (None when it is no longer
    loaded but its invocations are still on record), else 404."""
    for kind in INVOKED_KINDS:
        if registry.has(kind, name):
            return registry.get(kind, name)
    if Invocation.objects.filter(function_name=name).exists():
        return None
    raise Http404(f"no function named {name!r} has invocations to show")


@login_required
@require_GET
def function_detail(request: HttpRequest, name: str) -> HttpResponse:
    require_permission(request.user, "view_console")
    function = _function_or_404(name)
    context = {
        **function_context(name, request.GET),
        "function": function,
        "trigger": describe_trigger(function) if function else "",
        "runnable": function is not None and not isinstance(function.trigger, HttpTrigger),
        "nav": "functions",
        "live_url": live_url("function", [("name", name), ("after", request.GET.get("after") or "")]),
    }
    return render(request, "functions/function.html", context)


def function_context(name: str, query: QueryDict) -> dict:
    """The function page's live region: counts, charts and a page of invocations."""
    now = timezone.now()
    status = (query.get("status") or "").strip()
    rows = Invocation.objects.filter(function_name=name)
    if status:
        rows = rows.filter(status=status)
    page = paging.newest_first(rows, "started_at", query.get("after"), PAGE_SIZE)
    base = reverse("function", args=[name])
    filters = [("status", status)] if status else []
    hour = invocations.last_hour_by_minute(name, now)
    day = invocations.last_day_by_quarter_hour(name, now)
    return {
        "name": name,
        "status": status,
        "statuses": Invocation.Status.values,
        "invocations": page.rows,
        "next_url": f"{base}?{urlencode([*filters, ('after', page.next_token)])}" if page.next_token else None,
        "first_url": f"{base}?{urlencode(filters)}" if not page.is_first else None,
        "hour": _totals(hour),
        "day": _totals(day),
        "hour_chart": bucket_chart(hour, label_every=15, label_format="%H:%M", unit="min"),
        "day_chart": bucket_chart(day, label_every=16, label_format="%H:%M", unit="15 min"),
    }


def render_function_live(name: str, query: QueryDict, user, csrf_token: str | None) -> str:
    context = {**function_context(name, query), "user": user, "csrf_token": csrf_token, "oob": True}
    return render_to_string("functions/function.html#function-live", context)


def _totals(buckets: list[invocations.Bucket]) -> dict:
    return {"runs": sum(b.runs for b in buckets), "failures": sum(b.failures for b in buckets)}


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 720, 160, 24


def bucket_chart(buckets: list[invocations.Bucket], *, label_every: int, label_format: str, unit: str) -> dict:
    """Geometry for an inline SVG: a bar per bucket (completed and failed runs, on the left
    scale) and the p50 and p95 durations as lines (on the right scale, in milliseconds).
    Numbers only: nothing a user wrote reaches the SVG."""
    peak_runs = _nice_ceiling(max([b.runs for b in buckets] + [1]))
    peak_ms = _nice_ceiling(max([_ms(b.p95) for b in buckets if b.p95 is not None] + [1]))
    slot = CHART_WIDTH / max(len(buckets), 1)
    plot = CHART_HEIGHT - CHART_PAD
    bars, p50, p95 = [], [], []
    for index, bucket in enumerate(buckets):
        x = index * slot
        failed = plot * bucket.failures / peak_runs
        other = plot * (bucket.runs - bucket.failures) / peak_runs
        bars.append(
            {
                "x": round(x + 1, 1),
                "width": round(max(slot - 2, 1), 1),
                "ok_y": round(plot - other, 1),
                "ok_height": round(other, 1),
                "failed_y": round(plot - other - failed, 1),
                "failed_height": round(failed, 1),
                "bucket": bucket,
                "p50_ms": _ms(bucket.p50),
                "p95_ms": _ms(bucket.p95),
            }
        )
        middle = x + slot / 2
        if bucket.p50 is not None:
            p50.append(f"{middle:.1f},{plot - plot * _ms(bucket.p50) / peak_ms:.1f}")
        if bucket.p95 is not None:
            p95.append(f"{middle:.1f},{plot - plot * _ms(bucket.p95) / peak_ms:.1f}")
    labels = [
        {"x": round(index * slot, 1), "text": timezone.localtime(bucket.at).strftime(label_format)}
        for index, bucket in enumerate(buckets)
        if index % label_every == 0
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot": plot,
        "half_y": plot / 2,
        "bars": bars,
        "p50": " ".join(p50),
        "p95": " ".join(p95),
        "labels": labels,
        "runs_scale": peak_runs,
        "ms_scale": peak_ms,
        "unit": unit,
    }


def _ms(value: timedelta | None) -> float:
    return value.total_seconds() * 1000 if value is not None else 0.0


def _nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 25, 50, 100, ... at or above ``value``."""
    magnitude = 1
    while True:
        for step in (1, 2, 5) if magnitude == 1 else (1, 2, 2.5, 5):
            if value <= step * magnitude:
                return int(step * magnitude)
        magnitude *= 10


@require_POST
@login_required
def run_function(request: HttpRequest, name: str) -> HttpResponse:
    """Run the function now with the input typed in the form (functions.services.run_by_hand
    says how each kind takes it, and why it runs in this request)."""
    require_permission(request.user, "invoke_function")
    form = forms.RunFunctionForm(request.POST)
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
        return redirect("function", name)
    try:
        ran = run_by_hand.run(name, form.cleaned_data["input"], actor=Actor.for_user(request.user))
    except run_by_hand.FunctionNotFoundError as error:
        raise Http404(str(error)) from None
    except run_by_hand.RunByHandError as error:
        messages.error(request, str(error))
        return redirect("function", name)
    invocation = ran.invocation
    if invocation.status == Invocation.Status.FAILED:
        messages.error(request, f"Ran {name}: it failed ({invocation.error_type}).")
    else:
        messages.success(request, f"Ran {name}: {invocation.status}.")
    return redirect("invocation", invocation.pk)


@login_required
@require_GET
def invocation_detail(request: HttpRequest, invocation_id: int) -> HttpResponse:
    require_permission(request.user, "view_console")
    invocation = get_object_or_404(Invocation, pk=invocation_id)
    attempts = []
    if invocation.trigger == Invocation.Trigger.ACTIVITY:
        attempts = list(
            Invocation.objects.filter(instance_id=invocation.instance_id, task_id=invocation.task_id).order_by(
                "started_at", "pk"
            )
        )
    context = {"invocation": invocation, "attempts": attempts, "nav": "functions", "live_url": live_url("nav")}
    return render(request, "functions/invocation.html", context)


INVOCATION_DOWNLOADS = {
    "input": lambda invocation: invocation.input,
    "output": lambda invocation: invocation.output,
}


@login_required
@require_GET
def invocation_download(request: HttpRequest, invocation_id: int, part: str) -> HttpResponse:
    """An invocation's input or output, whole, for the page that shows it cut."""
    require_permission(request.user, "view_console")
    invocation = get_object_or_404(Invocation, pk=invocation_id)
    if part not in INVOCATION_DOWNLOADS:
        raise Http404("nothing to download by that name")
    return json_download(INVOCATION_DOWNLOADS[part](invocation), f"invocation-{invocation.pk}-{part}.json")
