"""Retention (orchestrations/store/retention.py): finished instances go by status and age, with
everything stored for them, in bounded batches; a parent only with its sub-orchestrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from consoleapp.env import env_retention
from functions.models import Invocation
from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Approval, HistoryRow, Instance, Message, SetAsideMessage, WorkItem
from orchestrations.store import retention
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

RULES = {"Completed": 30 * 86400, "Failed": 90 * 86400, "Terminated": 30 * 86400}
NOW = timezone.now()


@pytest.fixture(autouse=True)
def rules(settings):
    settings.PERDURA_RETENTION = RULES
    retention._resume_after = None
    yield
    retention._resume_after = None


def instance(instance_id: str, status: str = "Completed", days_ago: float | None = 40, parent: str | None = None):
    completed = NOW - timedelta(days=days_ago) if days_ago is not None else None
    return Instance(
        instance_id=instance_id,
        name="echo_orchestrator",
        execution_id="e",
        runtime_status=status,
        created_at=(completed or NOW) - timedelta(minutes=1),
        completed_at=completed,
        parent_instance_id=parent,
    )


def remaining() -> set[str]:
    return set(Instance.objects.values_list("instance_id", flat=True))


def prune_all(**limits) -> int:
    total = 0
    while True:
        purged = retention.prune(NOW, **limits)
        total += purged
        if retention._resume_after is None and purged == 0:
            return total


def test_instances_go_by_status_and_age_and_the_rest_stay():
    Instance.objects.bulk_create(
        [
            instance("old-completed", "Completed", 31),
            instance("young-completed", "Completed", 29),
            instance("old-failed", "Failed", 91),
            instance("young-failed", "Failed", 60),
            instance("old-terminated", "Terminated", 31),
            instance("old-canceled-no-rule", "Canceled", 400),
            instance("running", "Running", None),
            instance("pending", "Pending", None),
        ]
    )

    assert retention.prune(NOW) == 3

    assert remaining() == {"young-completed", "young-failed", "old-canceled-no-rule", "running", "pending"}


def test_everything_stored_for_a_purged_instance_goes_with_it_and_nothing_of_others():
    Instance.objects.bulk_create([instance("gone"), instance("kept", "Completed", 1)])
    for instance_id in ("gone", "kept"):
        HistoryRow.objects.create(
            instance_id=instance_id, execution_id="e", sequence=0, event_type="ExecutionStarted", timestamp=NOW
        )
        Message.objects.create(instance_id=instance_id, event_type="EventRaised", event={}, visible_at=NOW)
        SetAsideMessage.objects.create(
            instance_id=instance_id, event_type="EventRaised", event={}, sent_at=NOW, error="x"
        )
        WorkItem.objects.create(instance_id=instance_id, execution_id="e", task_id=0, name="echo")
        Approval.objects.create(instance_id=instance_id, execution_id="e", task_id=1, name="ok", title="OK?")
        Invocation.objects.create(function_name="echo", instance_id=instance_id, task_id=0, worker="w", started_at=NOW)

    retention.prune(NOW)

    for model in (HistoryRow, Message, SetAsideMessage, WorkItem, Approval, Invocation):
        assert set(model.objects.values_list("instance_id", flat=True)) == {"kept"}, model.__name__


def test_a_parent_stays_while_a_sub_orchestration_runs_or_is_within_retention():
    Instance.objects.bulk_create(
        [
            instance("parent-a"),
            instance("child-a", "Running", None, parent="parent-a"),
            instance("parent-b"),
            instance("child-b", "Completed", 35, parent="parent-b"),
            instance("grandchild-b", "Failed", 50, parent="child-b"),  # Failed: 90 days.
        ]
    )

    prune_all()

    assert remaining() == {"parent-a", "child-a", "parent-b", "child-b", "grandchild-b"}


def test_a_parent_goes_with_its_whole_tree_once_every_one_is_past_retention():
    Instance.objects.bulk_create(
        [
            # The oldest candidate is the parent (failed, and kept longer).
            instance("parent", "Failed", 95),
            instance("child", days_ago=40, parent="parent"),
            instance("grandchild", days_ago=35, parent="child"),
            instance("unrelated", days_ago=1),
        ]
    )

    # One batch of one candidate takes the whole tree with it, in one transaction.
    assert retention.prune(NOW, batch_size=1, max_batches=1) == 3

    assert remaining() == {"unrelated"}


def test_a_sub_orchestration_past_retention_may_go_before_its_running_parent():
    Instance.objects.bulk_create(
        [instance("eternal", "Running", None), instance("old-child", days_ago=40, parent="eternal")]
    )

    retention.prune(NOW)

    assert remaining() == {"eternal"}


def test_each_call_is_bounded_and_kept_trees_do_not_hold_the_rest_back():
    blocked = [instance(f"blocked-{n:02d}", days_ago=60) for n in range(30)]
    children = [instance(f"running-{n:02d}", "Running", None, parent=f"blocked-{n:02d}") for n in range(30)]
    newer = [instance(f"newer-{n:02d}", days_ago=45) for n in range(25)]
    Instance.objects.bulk_create([*blocked, *children, *newer])

    counts = []
    while True:
        counts.append(retention.prune(NOW, batch_size=10, max_batches=2))
        if retention._resume_after is None and counts[-1] == 0:
            break

    assert all(count <= 20 for count in counts)
    assert sum(counts) == 25
    assert remaining() == {i.instance_id for i in blocked + children}


def test_retention_off_purges_nothing(settings):
    settings.PERDURA_RETENTION = {}
    Instance.objects.bulk_create([instance("ancient", days_ago=10_000)])

    assert retention.prune(NOW) == 0
    assert remaining() == {"ancient"}


def test_the_audit_log_goes_after_its_own_longer_retention(settings):
    settings.PERDURA_AUDIT_RETENTION_DAYS = 365
    old = AuditLogEntry.objects.create(actor="a", source="cli", action="purge", target_type="instance")
    young = AuditLogEntry.objects.create(actor="a", source="cli", action="purge", target_type="instance")
    AuditLogEntry.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(days=366))
    AuditLogEntry.objects.filter(pk=young.pk).update(created_at=NOW - timedelta(days=364))

    retention.prune(NOW)

    assert list(AuditLogEntry.objects.values_list("pk", flat=True)) == [young.pk]


def test_the_setting_reads_statuses_and_ages_and_refuses_anything_else(monkeypatch):
    statuses = ("Completed", "Failed", "Terminated", "Canceled")
    monkeypatch.setenv("PERDURA_RETENTION", "Completed=30d, Failed=12h,Terminated=90")
    assert env_retention("PERDURA_RETENTION", "off", statuses) == {
        "Completed": 30 * 86400,
        "Failed": 12 * 3600,
        "Terminated": 90 * 86400,
    }
    monkeypatch.setenv("PERDURA_RETENTION", "off")
    assert env_retention("PERDURA_RETENTION", "Completed=1d", statuses) == {}
    for bad in ("Running=30d", "Completed=soon", "Completed=0d", "Completed"):
        monkeypatch.setenv("PERDURA_RETENTION", bad)
        with pytest.raises(ImproperlyConfigured, match="PERDURA_RETENTION"):
            env_retention("PERDURA_RETENTION", "off", statuses)


@pytest.mark.slow
def test_100_000_instances_go_exactly_by_the_rule_in_bounded_batches_while_workers_run(workers):
    statuses = ["Completed", "Failed", "Terminated", "Running"]
    seeded = [
        instance(f"seed-{n:06d}", statuses[n % 4], None if n % 4 == 3 else (n % 120) + 0.5) for n in range(100_000)
    ]
    Instance.objects.bulk_create(seeded, batch_size=5_000)
    expected = {
        i.instance_id
        for i in seeded
        if i.runtime_status == "Running" or (NOW - i.completed_at).total_seconds() <= RULES[i.runtime_status]
    }
    live = [services.start("echo_orchestrator", n) for n in range(5)]

    counts = []
    while True:
        counts.append(retention.prune(NOW))
        if retention._resume_after is None and counts[-1] == 0:
            break

    assert max(counts) <= retention.BATCH_SIZE * retention.MAX_BATCHES
    assert remaining() - set(live) == expected
    wait_until(lambda: all(services.get(i).runtime_status == "Completed" for i in live), message="the live instances")


def test_a_tree_too_large_for_one_transaction_goes_once_its_sub_orchestrations_went_on_their_own(monkeypatch):
    monkeypatch.setattr(retention, "TREE_BUDGET", 10)
    Instance.objects.bulk_create(
        [instance("fan-parent", days_ago=40)]
        + [instance(f"fan-child-{n:02d}", days_ago=45, parent="fan-parent") for n in range(25)]
    )

    counts = []
    while True:
        counts.append(retention.prune(NOW, batch_size=10, max_batches=1))
        if retention._resume_after is None and counts[-1] == 0:
            break

    assert max(counts) <= 10
    assert remaining() == set()
