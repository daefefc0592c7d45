"""Views of the console project itself: the health check, the overview, the audit log, the
workers page, API keys and users. The pages of orchestrations, entities and function apps
live with their apps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from consoleapp.templatetags.console import pretty_json_text
from orchestrations import inspect, paging
from orchestrations.access import apikeys, audit, roles
from orchestrations.access.audit import Actor
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Approval, Instance, WorkerHeartbeat

AUDIT_PAGE_SIZE = 50


def require_permission(user, codename: str) -> None:
    """Raise PermissionDenied (403) unless ``user`` may do ``codename`` now."""
    if not roles.can(user, codename):
        raise PermissionDenied(f"your role does not allow {codename.replace('_', ' ')}")


def json_download(stored: str | None, filename: str) -> HttpResponse:
    """A stored JSON value as an attachment: indented when it is within the bounds the pages
    indent within, else exactly as stored, so that a download is always the whole value."""
    response = HttpResponse(pretty_json_text(stored) or "null", content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def live_url(page: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """The websocket address a page subscribes to: the consumer learns from it what the page
    shows (which list filter, which instance) and pushes the regions that change."""
    pairs = [("page", page), *((key, value) for key, value in params if value not in (None, ""))]
    return f"/ws/console/?{urlencode(pairs)}"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Whether the database, the broker and at least one worker are alive (503 if not)."""
    database = _check_database()
    broker = _check_broker()
    workers = _count_live_workers() if database["ok"] else {"ok": False, "alive": 0}
    healthy = database["ok"] and broker["ok"] and workers["ok"]
    body = {"status": "ok" if healthy else "degraded", "database": database, "broker": broker, "workers": workers}
    return JsonResponse(body, status=200 if healthy else 503)


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except DatabaseError as error:
        return {"ok": False, "error": str(error)}


def _check_broker() -> dict:
    if settings.PERDURA_WORKERS == "inprocess":
        return {"ok": True, "kind": "in-process"}
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        return {"ok": True, "kind": "redis"}
    except redis.RedisError as error:
        return {"ok": False, "kind": "redis", "error": str(error)}


def _count_live_workers() -> dict:
    cutoff = timezone.now() - timedelta(seconds=3 * settings.PERDURA_WORKER_HEARTBEAT_SECONDS)
    alive = WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).count()
    return {"ok": alive > 0, "alive": alive}


# The overview.


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {**overview_context(request.user), "live_url": live_url("overview"), "nav": "overview"}
    return render(request, "console/overview.html", context)


def overview_context(user) -> dict:
    """What the overview shows; rendered for the page and for every live push of it."""
    from orchestrations.approvals import decidable_by

    now = timezone.now()
    minutes = inspect.throughput(now)
    pending_approvals = Approval.objects.filter(status=Approval.Status.PENDING)
    workers = inspect.workers(now)
    return {
        "now": now,
        "counts": inspect.counts_by_status(),
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
        "queues": inspect.queue_depths(now),
    }


def render_overview_live(user, csrf_token: str | None = None) -> str:
    context = {**overview_context(user), "user": user, "oob": True, "csrf_token": csrf_token}
    return render_to_string("console/overview.html#overview-live", context)


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 720, 160, 24


def throughput_chart(minutes: list[inspect.Minute]) -> dict:
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


# The audit log.


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


def _decode_audit_token(token: str | None) -> tuple[datetime, int] | None:
    """The position after which to list; a token from elsewhere lists from the start."""
    if not token:
        return None
    try:
        created_at, pk = paging.decode(token, [datetime, int])
    except paging.BadTokenError:
        return None
    return created_at, pk


# Workers.


@login_required
@require_GET
def workers(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {**workers_context(), "nav": "workers", "live_url": live_url("workers")}
    return render(request, "console/workers.html", context)


def workers_context() -> dict:
    now = timezone.now()
    return {
        "workers": inspect.workers(now),
        "queues": inspect.queue_depths(now),
        "heartbeat_seconds": settings.PERDURA_WORKER_HEARTBEAT_SECONDS,
        "mode": settings.PERDURA_WORKERS,
        "now": now,
    }


def render_workers_live(user, csrf_token: str | None = None) -> str:
    context = {**workers_context(), "user": user, "oob": True, "csrf_token": csrf_token}
    return render_to_string("console/workers.html#workers-live", context)


# API keys.


@login_required
@require_GET
def api_keys(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_api_keys")
    return render(request, "console/api_keys.html", _api_keys_context())


def _api_keys_context(**extra) -> dict:
    return {
        "keys": apikeys.list_keys(include_revoked=True),
        "roles": roles.ROLES,
        "nav": "api-keys",
        "live_url": live_url("nav"),
        **extra,
    }


@require_POST
@login_required
def create_api_key(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_api_keys")
    try:
        api_key, plain_key = apikeys.create(
            request.POST.get("name", ""), request.POST.get("role", ""), actor=Actor.for_user(request.user)
        )
    except apikeys.ApiKeyError as error:
        messages.error(request, str(error))
        return redirect("api-keys")
    # The plain key is shown on this response only: it is not stored and not put in a redirect.
    return render(request, "console/api_keys.html", _api_keys_context(new_key=api_key, plain_key=plain_key))


@require_POST
@login_required
def revoke_api_key(request: HttpRequest, prefix: str) -> HttpResponse:
    require_permission(request.user, "manage_api_keys")
    try:
        apikeys.revoke(prefix, actor=Actor.for_user(request.user))
        messages.success(request, f"Revoked the API key {prefix}.")
    except apikeys.ApiKeyError as error:
        messages.error(request, str(error))
    return redirect("api-keys")


# Users and their roles.


@login_required
@require_GET
def users(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_users")
    people = get_user_model().objects.prefetch_related("groups").order_by("username")
    context = {
        "people": [(person, {group.name for group in person.groups.all()}) for person in people],
        "roles": roles.ROLES,
        "nav": "users",
        "live_url": live_url("nav"),
    }
    return render(request, "console/users.html", context)


@require_POST
@login_required
def create_user(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_users")
    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    chosen = [role for role in request.POST.getlist("roles") if role in roles.ROLES]
    users_model = get_user_model()
    if not username:
        messages.error(request, "A user needs a username.")
        return redirect("users")
    if users_model.objects.filter(username=username).exists():
        messages.error(request, f"There is already a user called {username}.")
        return redirect("users")
    try:
        validate_password(password, users_model(username=username))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("users")
    with transaction.atomic():
        person = users_model.objects.create_user(username=username, password=password)
        person.groups.set(Group.objects.filter(name__in=chosen))
        audit.record(Actor.for_user(request.user), "create_user", "user", username, details={"roles": chosen})
    messages.success(request, f"Created {username} ({', '.join(chosen) or 'no role'}).")
    return redirect("users")


@require_POST
@login_required
def set_user_roles(request: HttpRequest, user_id: int) -> HttpResponse:
    require_permission(request.user, "manage_users")
    person = get_object_or_404(get_user_model(), pk=user_id)
    chosen = [role for role in request.POST.getlist("roles") if role in roles.ROLES]
    with transaction.atomic():
        kept = list(person.groups.exclude(name__in=roles.ROLES))  # Assignee groups stay as they are.
        person.groups.set([*kept, *Group.objects.filter(name__in=chosen)])
        audit.record(
            Actor.for_user(request.user), "set_roles", "user", person.get_username(), details={"roles": chosen}
        )
    messages.success(request, f"{person.get_username()} now has the roles: {', '.join(chosen) or 'none'}.")
    return redirect("users")
