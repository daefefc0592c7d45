"""``durable purge``: delete finished instances, one by id or many by filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrations.models import HistoryRow, Instance
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable, stored_rows


def finish(orchestrator: str, instance_id: str, created_at: datetime) -> None:
    durable("start", orchestrator, "--id", instance_id)
    drain_all()
    Instance.objects.filter(pk=instance_id).update(created_at=created_at)


@pytest.fixture
def instances(db) -> None:
    """Completed: old-done (2025), new-done (2026); Failed: old-failed (2025); Running: waiting."""
    finish("echo_orchestrator", "old-done", datetime(2025, 6, 1, tzinfo=UTC))
    finish("echo_orchestrator", "new-done", datetime(2026, 6, 1, tzinfo=UTC))
    finish("failing_orchestrator", "old-failed", datetime(2025, 6, 1, tzinfo=UTC))
    finish("wait_for_approval", "waiting", datetime(2025, 6, 1, tzinfo=UTC))


def remaining_ids() -> list[str]:
    return sorted(Instance.objects.values_list("pk", flat=True))


def test_purge_by_id_deletes_the_instance_and_its_history(instances):
    outcome = durable("purge", "old-done")

    assert outcome.exit_code == 0
    assert outcome.stdout == "Purged 1 instance.\n"
    assert remaining_ids() == ["new-done", "old-failed", "waiting"]
    assert not HistoryRow.objects.filter(instance_id="old-done").exists()


def test_purge_by_status_deletes_every_match(instances):
    outcome = durable("purge", "--status", "Completed")

    assert outcome.stdout == "Purged 2 instances.\n"
    assert remaining_ids() == ["old-failed", "waiting"]


def test_purge_by_statuses_and_creation_date(instances):
    outcome = durable("purge", "--status", "completed,failed", "--created-before", "2026-01-01")

    assert outcome.stdout == "Purged 2 instances.\n"
    assert remaining_ids() == ["new-done", "waiting"]


def test_purge_by_status_created_after_a_date(instances):
    outcome = durable("purge", "--status", "Completed", "--status", "Failed", "--created-after", "2026-01-01T00:00:00Z")

    assert outcome.stdout == "Purged 1 instance.\n"
    assert remaining_ids() == ["old-done", "old-failed", "waiting"]


def test_purge_with_nothing_matching_purges_nothing(instances):
    outcome = durable("purge", "--status", "Terminated")

    assert outcome.exit_code == 0
    assert outcome.stdout == "Purged 0 instances.\n"
    assert len(remaining_ids()) == 4


def test_purge_of_a_running_instance_exits_2_and_changes_nothing(instances):
    before = stored_rows()

    outcome = durable("purge", "waiting")

    assert outcome.exit_code == 2
    assert "instance 'waiting' is Running; terminate it before purging it" in outcome.stderr
    assert stored_rows() == before


def test_purge_by_a_status_that_is_not_finished_exits_2_and_changes_nothing(instances):
    before = stored_rows()

    outcome = durable("purge", "--status", "Completed,Running")

    assert outcome.exit_code == 2
    assert "only finished instances can be purged, not ['Running']" in outcome.stderr
    assert stored_rows() == before


@pytest.mark.django_db
def test_purge_of_an_unknown_instance_exits_2():
    outcome = durable("purge", "nobody")

    assert outcome.exit_code == 2
    assert "no instance with id 'nobody'" in outcome.stderr


def test_purge_without_an_id_or_status_exits_2_and_changes_nothing(instances):
    before = stored_rows()

    for args in ([], ["--created-before", "2026-01-01"]):
        outcome = durable("purge", *args)

        assert outcome.exit_code == 2
        assert "name what to purge: an instance id, or --status" in outcome.stderr
    assert stored_rows() == before


def test_purge_with_both_an_id_and_filters_exits_2_and_changes_nothing(instances):
    before = stored_rows()

    outcome = durable("purge", "old-done", "--status", "Completed")

    assert outcome.exit_code == 2
    assert "give an instance id or filters (--status, dates), not both" in outcome.stderr
    assert stored_rows() == before


def test_purge_with_an_invalid_date_exits_2_and_changes_nothing(instances):
    before = stored_rows()

    outcome = durable("purge", "--status", "Completed", "--created-before", "2026-02-30")

    assert outcome.exit_code == 2
    assert "argument --created-before: '2026-02-30' is not an ISO 8601 date" in outcome.stderr
    assert stored_rows() == before
