"""The downloads that go with every JSON a page shows cut: each is the whole stored value
(indented when it is within the pages' bounds), and each asks what its page asks of the user."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.urls import reverse

from entities import services as entity_services
from entities.models import Entity
from functions.models import Invocation
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.models import Approval, HistoryRow, Instance
from orchestrations.worker.loop import drain_all
from tests.consoleapp.conftest import completed_instance

pytestmark = pytest.mark.django_db

#: Lists nested 899 deep, side by side: what no page indents, as it is stored.
DEEP = json.dumps([json.loads("[" * 899 + "]" * 899)] * 12, separators=(",", ":"))


@pytest.fixture
def stored():
    """One of each thing with a download, all holding ``DEEP``; their download addresses."""
    import samples.approval  # noqa: F401  (registers approve_shipment in this process)

    completed_instance("done", {"a": 1})
    entity_services.signal(EntityId("counter", "c1"), "add", 5)
    services.start("approve_shipment", {"order_id": "A-7", "items": 2}, instance_id="ship-A-7")
    drain_all()
    Instance.objects.filter(pk="done").update(input=DEEP)
    HistoryRow.objects.filter(instance_id="done", event_type="ExecutionStarted").update(data=DEEP)
    Entity.objects.filter(pk="@counter@c1").update(state=DEEP)
    Invocation.objects.filter(instance_id="done").update(output=DEEP)
    Approval.objects.filter(instance_id="ship-A-7").update(details=DEEP)
    started = HistoryRow.objects.get(instance_id="done", event_type="ExecutionStarted")
    return {
        "instance": reverse("instance-download", args=["done", "input"]),
        "history event": reverse("history-event-download", args=["done", started.pk, "data"]),
        "entity": reverse("entity-download", args=["@counter@c1"]),
        "invocation": reverse("invocation-download", args=[Invocation.objects.get(instance_id="done").pk, "output"]),
        "approval": reverse("approval-download", args=[Approval.objects.get(instance_id="ship-A-7").pk]),
    }


DOWNLOADS = ["instance", "history event", "entity", "invocation", "approval"]


@pytest.mark.parametrize("what", DOWNLOADS)
def test_a_download_is_the_whole_value_as_stored_when_no_page_indents_it(stored, login, what):
    reader = login("viewer", "warehouse")

    response = reader.get(stored[what])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; ")
    assert response.content.decode() == DEEP


@pytest.mark.parametrize("what", DOWNLOADS)
def test_anonymous_users_are_sent_to_log_in(stored, client, what):
    response = client.get(stored[what])

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(stored[what])}"


@pytest.mark.parametrize("what", DOWNLOADS)
def test_users_without_a_role_are_refused(stored, nobody, what):
    assert nobody.get(stored[what]).status_code == 403


@pytest.mark.parametrize("what", DOWNLOADS)
def test_downloads_refuse_post(stored, viewer, what):
    assert viewer.post(stored[what]).status_code == 405


def test_a_history_events_details_are_downloaded_indented(viewer):
    completed_instance("done")
    completed = HistoryRow.objects.get(instance_id="done", event_type="ExecutionCompleted")

    response = viewer.get(reverse("history-event-download", args=["done", completed.pk, "details"]))

    assert response["Content-Disposition"] == f'attachment; filename="done-event-{completed.sequence}-details.json"'
    assert response.content.decode() == json.dumps(completed.details, indent=2)


def test_an_approval_is_downloaded_by_every_role_that_reads_as_the_inbox_shows_it(stored, login):
    accounting = login("approver", "accounting")

    assert accounting.get(stored["approval"]).status_code == 200
    assert login().get(stored["approval"]).status_code == 403


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("instance-download", ["missing", "input"]),
        ("history-event-download", ["done", 0, "data"]),
        ("history-event-download", ["done", "first-event", "secrets"]),
        ("entity-download", ["@counter@missing"]),
        ("entity-download", ["not-an-entity-id"]),
        ("invocation-download", [0, "input"]),
        ("invocation-download", ["first-execution", "secrets"]),
        ("approval-download", [0]),
    ],
)
def test_unknown_things_are_not_found(stored, viewer, name, args):
    first_event = HistoryRow.objects.filter(instance_id="done").order_by("sequence").first().pk
    first_execution = Invocation.objects.get(instance_id="done").pk
    known = {"first-event": first_event, "first-execution": first_execution}

    response = viewer.get(reverse(name, args=[known.get(arg, arg) for arg in args]))

    assert response.status_code == 404
