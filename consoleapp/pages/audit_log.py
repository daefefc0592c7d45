"""The audit log: every change, who made it, through what, when and why."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from consoleapp.pages.common import live_url, require_permission
from orchestrations.access.models import AuditLogEntry
from orchestrations.services import paging

AUDIT_PAGE_SIZE = 50


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    filters = {
        key: (request.GET.get(key) or "").strip() for key in ("actor", "action", "target_type", "target", "source")
    }
    entries = AuditLogEntry.objects.all()
    if filters["actor"]:
        entries = entries.filter(actor__icontains=filters["actor"])
    if filters["action"]:
        entries = entries.filter(action=filters["action"])
    if filters["target_type"]:
        entries = entries.filter(target_type=filters["target_type"])
    if filters["target"]:
        entries = entries.filter(target_id__startswith=filters["target"])
    if filters["source"]:
        entries = entries.filter(source=filters["source"])
    page = paging.newest_first(entries, "created_at", request.GET.get("after"), AUDIT_PAGE_SIZE)
    context = {
        "entries": page.rows,
        "filters": filters,
        "next_token": page.next_token,
        "is_first_page": page.is_first,
        "actions": sorted(AuditLogEntry.objects.order_by().values_list("action", flat=True).distinct()),
        "target_types": sorted(AuditLogEntry.objects.order_by().values_list("target_type", flat=True).distinct()),
        "sources": AuditLogEntry.Source.values,
        "nav": "audit",
        "live_url": live_url("nav"),
    }
    return render(request, "console/audit_log.html", context)
