"""inbox.deliver: messages reach live instances and are dropped for the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orchestrations import services
from orchestrations.engine import events as ev
from orchestrations.models import Instance, Message
from orchestrations.store.inbox import deliver
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import run_to_end

pytestmark = pytest.mark.django_db


def raised(instance_id: str, *, visible_at=None, execution_id: str = "") -> Message:
    event = ev.event_raised(timezone.now(), "approval", '"yes"')
    return Message.for_event(instance_id, event, execution_id=execution_id, visible_at=visible_at)


@pytest.fixture
def waiting():
    services.start("wait_for_approval", instance_id="waiting")
    drain_all()
    return services.get("waiting")


def test_a_message_to_a_live_instance_is_delivered_and_wakes_it(waiting):
    assert waiting.next_message_at is None

    assert deliver([raised("waiting")]) == 1

    [message] = Message.objects.filter(instance_id="waiting")
    assert services.get("waiting").next_message_at == message.visible_at


def test_a_message_to_a_finished_instance_is_dropped():
    finished = run_to_end("echo_orchestrator", 1)

    assert deliver([raised(finished.pk)]) == 0

    assert not Message.objects.exists()
    assert services.get(finished.pk).next_message_at is None


def test_a_message_to_an_unknown_instance_is_dropped():
    assert deliver([raised("ghost")]) == 0

    assert not Message.objects.exists()


def test_an_answer_for_another_execution_is_dropped(waiting):
    assert deliver([raised("waiting", execution_id="an-earlier-execution")]) == 0
    assert deliver([raised("waiting", execution_id=waiting.execution_id)]) == 1


def test_only_the_deliverable_messages_of_a_batch_are_stored(waiting):
    finished = run_to_end("echo_orchestrator", 1)

    assert deliver([raised("ghost"), raised("waiting"), raised(finished.pk), raised("waiting")]) == 2

    assert set(Message.objects.values_list("instance_id", flat=True)) == {"waiting"}


def test_the_instance_wakes_at_its_earliest_message(waiting):
    now = timezone.now()
    later, sooner = now + timedelta(hours=2), now + timedelta(hours=1)

    deliver([raised("waiting", visible_at=later)])
    assert services.get("waiting").next_message_at == later
    deliver([raised("waiting", visible_at=sooner)])
    assert services.get("waiting").next_message_at == sooner
    deliver([raised("waiting", visible_at=later + timedelta(hours=1))])
    assert services.get("waiting").next_message_at == sooner


def test_a_message_to_a_suspended_instance_is_kept_for_when_it_resumes(waiting):
    services.suspend("waiting")
    drain_all()

    assert deliver([raised("waiting")]) == 1

    assert Instance.objects.get(pk="waiting").runtime_status == "Suspended"
    assert Message.objects.filter(instance_id="waiting").count() == 1
