"""The audit log: every change, who made it, through what, when and why."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Q
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
    after = _decode_audit_token(request.GET.get("after"))
    if after:
        created_at, pk = after
        entries = entries.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    rows = list(entries.order_by("-created_at", "-pk")[: AUDIT_PAGE_SIZE + 1])
    next_token = _encode_audit_token(rows[AUDIT_PAGE_SIZE - 1]) if len(rows) > AUDIT_PAGE_SIZE else None
    context = {
        "entries": rows[:AUDIT_PAGE_SIZE],
        "filters": filters,
        "next_token": next_token,
        "is_first_page": after is None,
        "actions": sorted(AuditLogEntry.objects.order_by().values_list("action", flat=True).distinct()),
        "target_types": sorted(AuditLogEntry.objects.order_by().values_list("target_type", flat=True).distinct()),
        "sources": AuditLogEntry.Source.values,
        "nav": "audit",
        "live_url": live_url("nav"),
    }
    return render(request, "console/audit_log.html", context)


def _encode_audit_token(entry: AuditLogEntry) -> str:
    return paging.encode([entry.created_at, entry.pk])


def _decode_audit_token(token: str | None) -> list | None:
    """The position after which to list (created_at, pk)."""
    return paging.decode_leniently(token, [datetime, int])
