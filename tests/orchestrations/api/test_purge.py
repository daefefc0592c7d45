"""DELETE instances/{instanceId} and DELETE instances (by filters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import HistoryRow, Instance
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.live import PREFIX, LiveApi

MORNING = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def finished(instance_id: str, hours_after_nine: int = 0) -> None:
    services.start("echo_orchestrator", "v", instance_id=instance_id)
    settle()
    Instance.objects.filter(pk=instance_id).update(created_at=MORNING + timedelta(hours=hours_after_nine))


def test_purge_of_a_finished_instance_deletes_it_and_its_history(api):
    finished("old")

    reply = api.delete(api.instance_path("old"))

    assert (reply.status, reply.json) == (200, {"instancesDeleted": 1})
    assert not Instance.objects.filter(pk="old").exists()
    assert not HistoryRow.objects.filter(instance_id="old").exists()
    assert AuditLogEntry.objects.get(action="purge").target_id == "old"


def test_purge_of_an_unknown_instance_is_404(api):
    reply = api.delete(api.instance_path("nobody"))

    assert reply.status == 404
    assert reply.json["Message"]


def test_purge_of_a_running_instance_is_412_and_keeps_it(api):
    services.start("wait_for_approval", instance_id="busy")

    reply = api.delete(api.instance_path("busy"))

    assert reply.status == 412
    assert "terminate it before purging it" in reply.json["Message"]
    assert Instance.objects.filter(pk="busy").exists()


def test_purge_needs_the_admin_role(live_server, operator_key):
    finished("kept")

    reply = LiveApi(live_server.url, operator_key).delete(f"{PREFIX}/instances/kept")

    assert reply.status == 403
    assert "purge_instance" in reply.json["Message"]
    assert Instance.objects.filter(pk="kept").exists()


def test_purge_by_creation_time_deletes_the_finished_instances_in_range(api):
    for hours, instance_id in enumerate(["early", "middle", "late"]):
        finished(instance_id, hours)
    services.start("wait_for_approval", instance_id="running")
    Instance.objects.filter(pk="running").update(created_at=MORNING + timedelta(hours=1))

    reply = api.delete(
        f"{PREFIX}/instances",
        query={"createdTimeFrom": "2026-11-26T09:30:00Z", "createdTimeTo": "2026-11-26T10:30:00Z"},
    )

    assert (reply.status, reply.json) == (200, {"instancesDeleted": 1})
    assert sorted(Instance.objects.values_list("pk", flat=True)) == ["early", "late", "running"]


def test_purge_by_filter_runs_up_to_now_by_default_and_takes_statuses(api):
    finished("completed")
    services.start("wait_for_approval", instance_id="terminated")
    services.terminate("terminated", "stop")
    settle()

    reply = api.delete(f"{PREFIX}/instances", query={"createdTimeFrom": "2020-01-01", "runtimeStatus": "Terminated"})

    assert reply.json == {"instancesDeleted": 1}
    assert list(Instance.objects.values_list("pk", flat=True)) == ["completed"]


def test_purge_by_filter_that_matches_nothing_is_404(api):
    finished("outside", 0)

    reply = api.delete(f"{PREFIX}/instances", query={"createdTimeFrom": "2030-01-01T00:00:00Z"})

    assert reply.status == 404
    assert reply.json["instancesDeleted"] == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Please provide value for 'createdTimeFrom' parameter."),
        ({"createdTimeFrom": "2020-01-01", "runtimeStatus": "Running"}, "only finished instances can be purged"),
    ],
)
def test_purge_by_filter_with_bad_filters_is_400(api, query, message):
    finished("safe")

    reply = api.delete(f"{PREFIX}/instances", query=query)

    assert reply.status == 400
    assert message in reply.json["Message"]
    assert Instance.objects.filter(pk="safe").exists()
