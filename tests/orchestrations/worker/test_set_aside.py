"""An episode that can never succeed does not loop: after MAX_FAILED_ATTEMPTS failures in a
row the instance fails with the reason and the messages it could not take are set aside,
kept with the error. Failures that say nothing about the episode (a lost lease, a database
briefly away) are retried without counting."""

from __future__ import annotations

import json

import pytest
from django.db import DataError, OperationalError
from django.utils import timezone

import entities.worker
from entities.models import Entity
from orchestrations import services
from orchestrations.models import HistoryRow, Instance, Message, SetAsideMessage
from orchestrations.worker import episodes
from orchestrations.worker.failures import MAX_FAILED_ATTEMPTS
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db


def try_again() -> None:
    """The next attempt, without waiting out the retry delay: the lease a failure keeps is let go."""
    Instance.objects.update(lease_expires_at=None)
    drain_all()


def waiting_instance(instance_id: str = "waiting") -> str:
    services.start("wait_for_approval", None, instance_id=instance_id)
    drain_all()
    return instance_id


def force_message(instance_id: str, event: dict) -> Message:
    """A message in the inbox as no door would write it (the state a review forced)."""
    message = Message.objects.create(
        instance_id=instance_id, event_type="EventRaised", event=event, visible_at=timezone.now()
    )
    Instance.objects.filter(pk=instance_id).update(next_message_at=message.visible_at)
    return message


def test_a_message_the_episode_cannot_read_fails_the_instance_after_the_bound_and_is_set_aside():
    instance_id = waiting_instance()
    force_message(instance_id, {"event_type": "EventRaised", "no timestamp": True})

    drain_all()
    for _ in range(MAX_FAILED_ATTEMPTS - 2):
        try_again()
        instance = Instance.objects.get(pk=instance_id)
        assert instance.runtime_status == "Running"
    assert instance.failed_attempts == MAX_FAILED_ATTEMPTS - 1
    assert "KeyError" in instance.last_error

    try_again()

    instance = Instance.objects.get(pk=instance_id)
    assert instance.runtime_status == "Failed"
    assert instance.failure["error_type"] == "CheckpointFailed"
    assert f"failed {MAX_FAILED_ATTEMPTS} times in a row" in instance.failure["message"]
    assert "KeyError" in instance.failure["message"]
    assert instance.next_message_at is None and instance.lease_owner is None
    [kept] = SetAsideMessage.objects.filter(instance_id=instance_id)
    assert kept.event == {"event_type": "EventRaised", "no timestamp": True}
    assert "KeyError" in kept.error
    assert not Message.objects.filter(instance_id=instance_id).exists()
    last = HistoryRow.objects.filter(instance_id=instance_id).order_by("-sequence").first()
    assert (last.event_type, last.details["status"]) == ("ExecutionCompleted", "Failed")
    assert last.details["failure"]["error_type"] == "CheckpointFailed"


def test_a_checkpoint_the_database_refuses_every_time_stops_at_the_bound(monkeypatch):
    """As a value too long for its column on PostgreSQL did: a data error on every write."""
    instance_id = waiting_instance()
    services.raise_event(instance_id, "approval", "yes")
    real = episodes.write_episodes

    def refuse(plans, *args, **kwargs):
        if any(plan.instance.pk == instance_id and not plan.set_aside_messages for plan in plans):
            raise DataError("value too long for type character varying(300)")
        return real(plans, *args, **kwargs)

    monkeypatch.setattr(episodes, "write_episodes", refuse)

    drain_all()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        try_again()

    instance = Instance.objects.get(pk=instance_id)
    assert instance.runtime_status == "Failed"
    assert "value too long for type character varying(300)" in instance.failure["message"]
    [kept] = SetAsideMessage.objects.filter(instance_id=instance_id)
    assert (kept.event_type, kept.event["name"]) == ("EventRaised", "approval")


def test_when_even_the_failure_cannot_be_written_the_row_is_failed_and_the_messages_set_aside(monkeypatch):
    instance_id = waiting_instance()
    services.raise_event(instance_id, "approval", "yes")

    def refuse(plans, *args, **kwargs):
        raise DataError("value too long for type character varying(300)")

    monkeypatch.setattr(episodes, "write_episodes", refuse)

    drain_all()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        try_again()

    instance = Instance.objects.get(pk=instance_id)
    assert (instance.runtime_status, instance.next_message_at, instance.lease_owner) == ("Failed", None, None)
    assert instance.failure["error_type"] == "CheckpointFailed"
    assert SetAsideMessage.objects.filter(instance_id=instance_id, event_type="EventRaised").count() == 1
    assert not Message.objects.filter(instance_id=instance_id).exists()


def test_a_parent_hears_that_its_child_was_given_up():
    call = {"orchestrator": "wait_for_approval", "instance_id": "child"}
    services.start("call_sub_orchestrator_by_name", call, instance_id="parent")
    drain_all()
    child_id = "child"
    force_message(child_id, {"garbage": True})

    drain_all()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        try_again()

    assert Instance.objects.get(pk=child_id).runtime_status == "Failed"
    parent = Instance.objects.get(pk="parent")
    assert parent.runtime_status == "Failed"
    assert "CheckpointFailed" in parent.failure["message"]


def test_transient_errors_are_retried_without_counting(monkeypatch):
    instance_id = waiting_instance()
    services.raise_event(instance_id, "approval", "yes")
    real = episodes.write_episodes
    failures = {"left": MAX_FAILED_ATTEMPTS + 2}

    def flaky(plans, *args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("deadlock detected")
        return real(plans, *args, **kwargs)

    monkeypatch.setattr(episodes, "write_episodes", flaky)

    drain_all()
    while failures["left"]:
        assert Instance.objects.get(pk=instance_id).failed_attempts == 0
        try_again()
    try_again()

    instance = Instance.objects.get(pk=instance_id)
    assert (instance.runtime_status, json.loads(instance.output)) == ("Completed", "yes")
    assert not SetAsideMessage.objects.exists()


def test_a_success_starts_the_count_again(monkeypatch):
    instance_id = waiting_instance()
    services.raise_event(instance_id, "approval", "yes")
    real = episodes.write_episodes
    failures = {"left": MAX_FAILED_ATTEMPTS - 1}

    def failing_for_a_while(plans, *args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise DataError("not yet")
        return real(plans, *args, **kwargs)

    monkeypatch.setattr(episodes, "write_episodes", failing_for_a_while)

    drain_all()
    while failures["left"]:
        try_again()
    try_again()

    instance = Instance.objects.get(pk=instance_id)
    assert instance.runtime_status == "Completed"
    assert (instance.failed_attempts, instance.last_error) == (0, None)


def test_an_entity_batch_that_always_fails_is_set_aside_and_its_caller_answered(monkeypatch):
    def refuse(*args, **kwargs):
        raise DataError("value too long for type character varying(300)")

    monkeypatch.setattr(entities.worker, "run_operation", refuse)
    call = {"entity": "@counter@c1", "operation": "add", "input": 1}
    services.start("call_entity_by_name", call, instance_id="caller")

    drain_all()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        Entity.objects.update(lease_expires_at=None)
        drain_all()

    entity = Entity.objects.get(pk="@counter@c1")
    assert (entity.state, entity.failed_attempts) == (None, 0)
    assert "value too long" in entity.last_error
    [kept] = SetAsideMessage.objects.filter(instance_id="@counter@c1")
    assert (kept.event_type, kept.event["name"]) == ("EntityOperationCalled", "add")
    caller = Instance.objects.get(pk="caller")
    assert caller.runtime_status == "Failed"
    assert "OperationSetAside" in caller.failure["message"]


def test_the_instance_page_shows_the_retries_and_then_what_was_set_aside(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root"))
    instance_id = waiting_instance()
    force_message(instance_id, {"garbage": True})
    drain_all()

    retrying = client.get(f"/instances/{instance_id}/").content.decode()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        try_again()
    given_up = client.get(f"/instances/{instance_id}/").content.decode()

    assert "The last 1 attempt to process this failed" in retrying
    assert "KeyError" in retrying
    assert "Set aside" in given_up
    assert "CheckpointFailed" in given_up
    assert "The last" not in given_up
