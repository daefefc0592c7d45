"""The health check: whether the database, the broker and at least one worker are alive."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from orchestrations.models import WorkerHeartbeat


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
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        return {"ok": True, "kind": "redis"}
    except redis.RedisError as error:
        return {"ok": False, "kind": "redis", "error": str(error)}


def _count_live_workers() -> dict:
    alive = WorkerHeartbeat.objects.filter(last_seen__gte=WorkerHeartbeat.alive_since(timezone.now())).count()
    return {"ok": alive > 0, "alive": alive}
