"""services.raise_event: delivery, buffering and refusals."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow, Message
from orchestrations.worker.loop import drain_all
from tests.orchestrations.helpers import run_to_end

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting():
    services.start("wait_for_approval", instance_id="waiting")
    drain_all()
    return "waiting"


def test_an_event_raised_on_a_waiting_instance_completes_its_wait(waiting):
    services.raise_event(waiting, "approval", {"approved": True})
    drain_all()

    instance = services.get(waiting)
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"approved": True}
    raised = HistoryRow.objects.get(instance_id=waiting, event_type="EventRaised")
    assert raised.name == "approval"


def test_an_event_name_matches_the_wait_regardless_of_case(waiting):
    services.raise_event(waiting, "APPROVAL", "yes")
    drain_all()

    assert services.get(waiting).output == '"yes"'


def test_an_event_raised_before_the_wait_is_buffered_and_delivered():
    instance_id = services.start("wait_for_approval")
    services.raise_event(instance_id, "approval", "early")  # Before the orchestrator has run at all.
    drain_all()

    instance = services.get(instance_id)
    assert (instance.runtime_status, instance.output) == ("Completed", '"early"')


def test_an_event_nobody_waits_for_is_kept_in_history_and_the_instance_keeps_waiting(waiting):
    services.raise_event(waiting, "something-else", 1)
    drain_all()

    assert services.get(waiting).runtime_status == "Running"
    assert HistoryRow.objects.filter(instance_id=waiting, event_type="EventRaised", name="something-else").exists()
    services.raise_event(waiting, "approval", 2)
    drain_all()
    assert services.get(waiting).output == "2"


def test_raising_an_event_on_an_unknown_instance_is_refused():
    with pytest.raises(services.InstanceNotFoundError, match="no instance with id 'ghost'"):
        services.raise_event("ghost", "approval")

    assert not Message.objects.exists()


def test_raising_an_event_on_a_finished_instance_is_refused():
    finished = run_to_end("echo_orchestrator", 1)

    with pytest.raises(services.InstanceFinishedError, match="has already finished \\(Completed\\)"):
        services.raise_event(finished.pk, "approval")

    assert not Message.objects.exists()


@pytest.mark.parametrize("event_name", ["", "   ", None, 7])
def test_raising_an_event_without_a_proper_name_is_refused(waiting, event_name):
    with pytest.raises(services.BadInputError, match="an event name must be a non-empty string"):
        services.raise_event(waiting, event_name)

    assert not Message.objects.exists()


def test_raising_an_event_with_data_that_is_not_json_is_refused(waiting):
    with pytest.raises(services.BadInputError, match="the event data is not JSON-serializable"):
        services.raise_event(waiting, "approval", object())

    assert not Message.objects.exists()


def test_raising_an_event_with_data_over_the_payload_limit_is_refused(waiting, settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    with pytest.raises(services.BadInputError, match=r"the event data is .* over the limit"):
        services.raise_event(waiting, "approval", "x" * 2000)

    assert not Message.objects.exists()
