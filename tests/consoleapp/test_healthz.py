from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orchestrations.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthz_reports_no_live_worker_as_degraded(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["workers"] == {"ok": False, "alive": 0}


def test_healthz_is_ok_with_a_recent_heartbeat(client):
    WorkerHeartbeat.objects.create(worker_id="host:1", hostname="host", pid=1, mode="inprocess")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["workers"] == {"ok": True, "alive": 1}


def test_healthz_ignores_stale_heartbeats(client):
    WorkerHeartbeat.objects.create(
        worker_id="host:1", hostname="host", pid=1, mode="inprocess", last_seen=timezone.now() - timedelta(minutes=5)
    )

    assert client.get("/healthz").json()["workers"]["alive"] == 0


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405
