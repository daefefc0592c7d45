"""The workers page: worker processes, their heartbeats, and the queues they drain."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from consoleapp.pages.common import live_url, require_permission
from orchestrations.services import inspection


@login_required
@require_GET
def workers(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {**workers_context(), "nav": "workers", "live_url": live_url("workers")}
    return render(request, "console/workers.html", context)


def workers_context() -> dict:
    now = timezone.now()
    return {
        "workers": inspection.workers(now),
        "queues": inspection.queue_depths(now),
        "heartbeat_seconds": settings.PERDURA_WORKER_HEARTBEAT_SECONDS,
        "mode": settings.PERDURA_WORKERS,
        "now": now,
    }


def render_workers_live(user, csrf_token: str | None = None) -> str:
    context = {**workers_context(), "user": user, "oob": True, "csrf_token": csrf_token}
    return render_to_string("console/workers.html#workers-live", context)
