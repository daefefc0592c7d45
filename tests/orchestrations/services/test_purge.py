"""services.purge and services.purge_by: deleting finished instances and everything they stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orchestrations import services
from orchestrations.models import HistoryRow, Instance, Message, WorkItem
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import run_orchestrations, run_to_end

pytestmark = pytest.mark.django_db


def stored_rows(instance_id: str) -> dict[str, int]:
    return {
        "instances": Instance.objects.filter(pk=instance_id).count(),
        "history": HistoryRow.objects.filter(instance_id=instance_id).count(),
        "messages": Message.objects.filter(instance_id=instance_id).count(),
        "work_items": WorkItem.objects.filter(instance_id=instance_id).count(),
    }


NOTHING = {"instances": 0, "history": 0, "messages": 0, "work_items": 0}


def test_purging_a_completed_instance_deletes_it_and_its_history():
    completed = run_to_end("echo_orchestrator", 1)

    assert services.purge(completed.pk) == 1

    assert stored_rows(completed.pk) == NOTHING
    with pytest.raises(services.InstanceNotFoundError):
        services.get(completed.pk)


def test_purging_a_terminated_instance_deletes_its_pending_timer_and_work():
    services.start("wait_on_timer", 3600, instance_id="sleeper")
    services.start("echo_orchestrator", "never run", instance_id="worker")
    run_orchestrations()
    services.terminate("sleeper")
    services.terminate("worker")
    run_orchestrations()
    assert stored_rows("sleeper")["messages"] == 1  # The timer, not yet due.
    assert stored_rows("worker")["work_items"] == 1

    services.purge("sleeper")
    services.purge("worker")

    assert stored_rows("sleeper") == NOTHING
    assert stored_rows("worker") == NOTHING


def test_purging_leaves_other_instances_alone():
    purged = run_to_end("echo_orchestrator", 1)
    kept = run_to_end("echo_orchestrator", 2)

    services.purge(purged.pk)

    assert stored_rows(kept.pk)["history"] == kept.history_length


def test_purging_a_running_instance_is_refused():
    services.start("wait_for_approval", instance_id="running")
    drain_all()

    with pytest.raises(services.InvalidStateError, match="terminate it before purging it"):
        services.purge("running")

    assert stored_rows("running")["instances"] == 1
    assert stored_rows("running")["history"] > 0


def test_purging_an_unknown_instance_is_refused():
    with pytest.raises(services.InstanceNotFoundError):
        services.purge("ghost")


def test_purge_by_deletes_every_finished_instance_and_spares_the_running_ones():
    finished = [run_to_end("echo_orchestrator", n).pk for n in range(3)]
    failed = run_to_end("failing_orchestrator").pk
    services.start("wait_for_approval", instance_id="running")
    drain_all()

    assert services.purge_by() == 4

    assert not Instance.objects.filter(pk__in=[*finished, failed]).exists()
    assert not HistoryRow.objects.filter(instance_id__in=[*finished, failed]).exists()
    assert services.get("running").runtime_status == "Running"


def test_purge_by_status_deletes_only_that_status():
    completed = run_to_end("echo_orchestrator", 1).pk
    failed = run_to_end("failing_orchestrator").pk

    assert services.purge_by(statuses=["Failed"]) == 1

    assert Instance.objects.filter(pk=completed).exists()
    assert not Instance.objects.filter(pk=failed).exists()


def test_purge_by_creation_time_deletes_only_instances_created_in_the_range():
    old = run_to_end("echo_orchestrator", "old").pk
    recent = run_to_end("echo_orchestrator", "recent").pk
    now = timezone.now()
    Instance.objects.filter(pk=old).update(created_at=now - timedelta(days=10))

    assert services.purge_by(created_to=now - timedelta(days=1)) == 1
    assert services.purge_by(created_from=now + timedelta(minutes=1)) == 0

    assert list(Instance.objects.values_list("pk", flat=True)) == [recent]


def test_purge_by_works_through_batches():
    for n in range(5):
        run_to_end("echo_orchestrator", n)

    assert services.purge_by(batch_size=2) == 5

    assert not Instance.objects.exists()
    assert not HistoryRow.objects.exists()


@pytest.mark.parametrize("statuses", [["Running"], ["Completed", "Pending"], ["Suspended"], ["ContinuedAsNew"]])
def test_purge_by_refuses_statuses_that_are_not_finished(statuses):
    run_to_end("echo_orchestrator", 1)

    with pytest.raises(services.BadInputError, match="only finished instances can be purged"):
        services.purge_by(statuses=statuses)

    assert Instance.objects.count() == 1
