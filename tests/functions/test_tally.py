"""Episodes and entity batches counted per function and minute (functions/worker/tally.py),
written by the sweeper, shown on the functions list, pruned with the invocations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from entities import services as entity_services
from functions.models import FunctionTally
from functions.store.retention import prune_invocations
from functions.worker import tally
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_pending():
    tally.flush()
    FunctionTally.objects.all().delete()
    yield
    tally.flush()


def counted(kind: str, name: str) -> int:
    return sum(FunctionTally.objects.filter(kind=kind, function_name=name).values_list("count", flat=True))


def test_counts_are_added_per_minute_across_flushes():
    minute = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    tally.count(tally.EPISODE, "billing", minute + timedelta(seconds=5))
    tally.count(tally.EPISODE, "billing", minute + timedelta(seconds=50))
    assert tally.flush() == 2
    tally.count(tally.EPISODE, "billing", minute + timedelta(seconds=59))
    tally.count(tally.EPISODE, "billing", minute + timedelta(minutes=1))
    assert tally.flush() == 2
    assert tally.flush() == 0

    rows = FunctionTally.objects.filter(function_name="billing").order_by("minute")
    assert [(row.minute, row.count) for row in rows] == [(minute, 3), (minute + timedelta(minutes=1), 1)]


def test_a_flush_that_fails_keeps_its_counts_for_the_next(monkeypatch):
    tally.count(tally.ENTITY_BATCH, "counter")

    def refuse(counts):
        raise RuntimeError("database down")

    monkeypatch.setattr(tally, "add_counts", refuse)
    with pytest.raises(RuntimeError):
        tally.flush()
    monkeypatch.undo()
    assert tally.flush() == 1
    assert counted(tally.ENTITY_BATCH, "counter") == 1


def test_every_episode_of_an_orchestration_is_counted():
    instance_id = services.start("hello_sequence", None)
    drain_all()
    assert services.get(instance_id).runtime_status == "Completed"

    tally.flush()

    # The start, then one episode per activity result.
    assert counted(tally.EPISODE, "hello_sequence") == 4


def test_an_entity_batch_is_counted_once_for_all_its_operations():
    entity_id = EntityId("counter", "tallied")
    for _ in range(3):
        entity_services.signal(entity_id, "add", 1)
    drain_all()

    tally.flush()

    assert counted(tally.ENTITY_BATCH, "counter") == 1


def test_the_functions_list_shows_episodes_and_batches(client):
    viewer = User.objects.create_user("vera")
    viewer.groups.add(Group.objects.get(name="viewer"))
    client.force_login(viewer)
    tally.count(tally.EPISODE, "hello_sequence")
    tally.count(tally.EPISODE, "hello_sequence")
    tally.flush()

    response = client.get("/functions/")

    assert response.status_code == 200
    row = response.content.decode().split(">hello_sequence<", 1)[1].split("</tr>", 1)[0]
    assert 'title="episodes">2</td>' in row


def test_counts_past_retention_are_pruned(settings):
    settings.PERDURA_INVOCATION_RETENTION_DAYS = 1
    now = timezone.now()
    tally.count(tally.EPISODE, "old", now - timedelta(days=2))
    tally.count(tally.EPISODE, "recent", now - timedelta(hours=2))
    tally.flush()

    prune_invocations(now)

    assert list(FunctionTally.objects.values_list("function_name", flat=True)) == ["recent"]
