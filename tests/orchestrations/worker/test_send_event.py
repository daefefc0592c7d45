"""send_event: one orchestration raising an event on another through the inbox."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow, Message
from tests.orchestrations.helpers import run_to_end

pytestmark = pytest.mark.django_db


def test_send_event_raises_the_event_on_the_target_instance():
    services.start("wait_for_approval", instance_id="target")

    sender = run_to_end("send_event_to", {"instance_id": "target", "name": "approval", "data": {"by": "ann"}})

    assert sender.runtime_status == "Completed"
    sent = HistoryRow.objects.get(instance_id=sender.pk, event_type="EventSent")
    assert (sent.name, sent.details["instance_id"]) == ("approval", "target")
    target = services.get("target")
    assert target.runtime_status == "Completed"
    assert json.loads(target.output) == {"by": "ann"}
    raised = HistoryRow.objects.get(instance_id="target", event_type="EventRaised")
    assert json.loads(raised.data) == {"by": "ann"}


def test_send_event_to_an_instance_that_does_not_exist_is_dropped():
    sender = run_to_end("send_event_to", {"instance_id": "nobody", "name": "approval"})

    assert sender.runtime_status == "Completed"
    assert not Message.objects.exists()


def test_send_event_to_a_finished_instance_is_dropped():
    finished = run_to_end("echo_orchestrator", 1, instance_id="finished")
    history_length = finished.history_length

    run_to_end("send_event_to", {"instance_id": "finished", "name": "approval"})

    assert not Message.objects.filter(instance_id="finished").exists()
    assert services.get("finished").history_length == history_length
