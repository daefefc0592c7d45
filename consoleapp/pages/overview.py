"""The overview: instances by status, throughput over the last hour, workers and queues,
recent failures, pending approvals."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from consoleapp.pages.common import live_url, require_permission
from orchestrations.models import Approval, Instance
from orchestrations.services import inspection
from orchestrations.services.approvals import decidable_by


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {**overview_context(request.user), "live_url": live_url("overview"), "nav": "overview"}
    return render(request, "console/overview.html", context)


def overview_context(user) -> dict:
    """What the overview shows; rendered for the page and for every live push of it."""
    now = timezone.now()
    minutes = inspection.throughput(now)
    pending_approvals = Approval.objects.filter(status=Approval.Status.PENDING)
    workers = inspection.workers(now)
    return {
        "now": now,
        "counts": inspection.counts_by_status(),
        "recent_failures": list(Instance.objects.filter(runtime_status="Failed").order_by("-created_at")[:8]),
        "pending_approvals": list(pending_approvals.order_by("-requested_at")[:6]),
        "pending_approval_count": pending_approvals.count(),
        "pending_approvals_yours": decidable_by(user).filter(status=Approval.Status.PENDING).count(),
        "chart": throughput_chart(minutes),
        "throughput_totals": {
            "started": sum(m.started for m in minutes),
            "completed": sum(m.completed for m in minutes),
            "failed": sum(m.failed for m in minutes),
        },
        "workers_alive": sum(1 for worker in workers if worker.is_alive),
        "workers_total": len(workers),
        "queues": inspection.queue_depths(now),
    }


def render_overview_live(user, csrf_token: str | None = None) -> str:
    context = {**overview_context(user), "user": user, "oob": True, "csrf_token": csrf_token}
    return render_to_string("console/overview.html#overview-live", context)


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 720, 160, 24


def throughput_chart(minutes: list[inspection.Minute]) -> dict:
    """Bar geometry for the throughput chart, drawn as inline SVG (numbers only, no user data)."""
    peak = max([m.completed + m.failed for m in minutes] + [m.started for m in minutes] + [1])
    scale = _nice_ceiling(peak)
    slot = CHART_WIDTH / max(len(minutes), 1)
    plot = CHART_HEIGHT - CHART_PAD
    bars, line = [], []
    for index, minute in enumerate(minutes):
        x = index * slot
        completed = plot * minute.completed / scale
        failed = plot * minute.failed / scale
        bars.append(
            {
                "x": round(x + 1, 1),
                "width": round(max(slot - 2, 1), 1),
                "completed_y": round(plot - completed, 1),
                "completed_height": round(completed, 1),
                "failed_y": round(plot - completed - failed, 1),
                "failed_height": round(failed, 1),
                "minute": minute,
            }
        )
        line.append(f"{x + slot / 2:.1f},{plot - plot * minute.started / scale:.1f}")
    labels = [
        {"x": round(index * slot, 1), "text": timezone.localtime(m.at).strftime("%H:%M")}
        for index, m in enumerate(minutes)
        if index % 15 == 0
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot": plot,
        "bars": bars,
        "line": " ".join(line),
        "labels": labels,
        "scale": scale,
        "half_y": plot / 2,
    }


def _nice_ceiling(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return step
    return value
