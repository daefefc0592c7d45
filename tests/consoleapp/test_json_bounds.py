"""Every page and live push that shows JSON stays small whatever the JSON. An outside review
made 21 KB of JSON nested 899 deep into a 19.6 MB instance page, because indenting repeats two
spaces per level on every line. Here each page is measured against the same page showing a
small value: a value shown as stored may add at most its excerpt, escaped, per panel."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from consoleapp.pages.approvals import render_inbox_live
from consoleapp.pages.entities import render_detail_live
from consoleapp.pages.instance import render_instance_live
from consoleapp.templatetags.console import PRETTY_DEPTH_LIMIT, STORED_EXCERPT_LIMIT
from entities import services as entity_services
from entities.models import Entity
from functions.models import Invocation
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.models import Approval, HistoryRow, Instance
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db

#: The most HTML one character of stored text becomes: ``'`` is escaped as ``&#x27;``.
ESCAPED = 6
#: The most a panel that shows its value as stored adds to a page, with its note.
STORED_PANEL = STORED_EXCERPT_LIMIT * ESCAPED + 1024
TOO_DEEP = f"nested deeper than {PRETTY_DEPTH_LIMIT} levels"


def nested_lists(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_objects(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def about_21_kb(depth: int, shape) -> list:
    """Values nested ``depth`` deep, side by side, to about 21 KB of JSON (the review's size)."""
    one = shape(depth)
    return [one] * (21_000 // len(json.dumps(one, separators=(",", ":"))) + 1)


#: 3.9 MB of lists nested 30 deep: within the depth limit, but 123 MB once indented.
NEAR_THE_PAYLOAD_LIMIT = json.dumps([nested_lists(30)] * 64_000, separators=(",", ":"))
#: 244 KB of the same: under the size that is parsed at all, but 7.7 MB once indented.
UNDER_THE_INPUT_LIMIT = json.dumps([nested_lists(30)] * 4_000, separators=(",", ":"))


def echo(instance_id: str, value: object) -> Instance:
    """A completed instance whose input, output, history and activity run all hold ``value``."""
    services.start("echo_orchestrator", value, instance_id=instance_id)
    drain_all()
    return Instance.objects.get(pk=instance_id)


def echo_stored(instance_id: str, text: str) -> Instance:
    """What ``echo`` stores for the value of ``text``, written directly: the engine takes
    seconds over megabytes of nested lists, and these tests are about the pages."""
    echo(instance_id, None)
    Instance.objects.filter(pk=instance_id).update(input=text, output=text)
    HistoryRow.objects.filter(
        instance_id=instance_id, event_type__in=["ExecutionStarted", "ExecutionCompleted"]
    ).update(data=text)
    Invocation.objects.filter(instance_id=instance_id).update(input=text, output=text)
    return Instance.objects.get(pk=instance_id)


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def push_of(instance: Instance, user: User) -> int:
    frames, _ = render_instance_live(instance.pk, user, None, since=0, execution_id=instance.execution_id)
    return sum(len(frame) for frame in frames)


@pytest.mark.parametrize("depth", [800, 899])
@pytest.mark.parametrize("shape", [nested_lists, nested_objects])
def test_an_instance_with_input_nested_900_deep_keeps_its_page_and_push_small(viewer, depth, shape):
    small = echo("small", [1])
    deep = echo("deep", about_21_kb(depth, shape))
    user = User.objects.get(username="viewer")

    small_page = get(viewer, reverse("instance", args=["small"]))
    page = get(viewer, reverse("instance", args=["deep"]))

    # The input and the output (the same value) are shown as stored.
    assert len(page) <= len(small_page) + 2 * STORED_PANEL
    assert f"Shown as stored, not indented: {TOO_DEEP}." in page
    assert reverse("instance-download", args=["deep", "input"]) in page
    assert push_of(deep, user) <= push_of(small, user) + 2 * STORED_PANEL


@pytest.mark.parametrize(
    ("text", "note"),
    [
        (NEAR_THE_PAYLOAD_LIMIT, "not indented: over 256 KB. The first 64.0\xa0KB of 3.7\xa0MB shown."),
        (UNDER_THE_INPUT_LIMIT, "not indented: over 256 KB once indented. The first 64.0\xa0KB of 238.3\xa0KB shown."),
    ],
)
def test_a_large_payload_keeps_the_instance_page_and_push_small(viewer, text, note):
    small = echo("small", [1])
    large = echo_stored("large", text)
    user = User.objects.get(username="viewer")

    page = get(viewer, reverse("instance", args=["large"]))

    assert len(page) <= len(get(viewer, reverse("instance", args=["small"]))) + 2 * STORED_PANEL
    assert note in page
    assert reverse("instance-download", args=["large", "output"]) in page
    assert push_of(large, user) <= push_of(small, user) + 2 * STORED_PANEL


def test_a_history_event_with_deep_data_opens_small(viewer):
    echo("deep", about_21_kb(899, nested_lists))
    started = HistoryRow.objects.get(instance_id="deep", event_type="ExecutionStarted")

    event = get(viewer, reverse("history-event", args=["deep", started.pk]))

    assert len(event) <= STORED_PANEL
    assert TOO_DEEP in event
    assert reverse("history-event-download", args=["deep", started.pk, "data"]) in event


def test_an_activity_run_with_a_near_limit_payload_keeps_its_page_small(viewer):
    echo("small", [1])
    echo_stored("large", NEAR_THE_PAYLOAD_LIMIT)
    small = Invocation.objects.get(instance_id="small")
    large = Invocation.objects.get(instance_id="large")

    page = get(viewer, reverse("invocation", args=[large.pk]))

    assert len(page) <= len(get(viewer, reverse("invocation", args=[small.pk]))) + 2 * STORED_PANEL
    assert reverse("invocation-download", args=[large.pk, "input"]) in page
    assert reverse("invocation-download", args=[large.pk, "output"]) in page


def test_an_entity_with_deep_state_keeps_its_page_and_push_small(viewer):
    for key in ("small", "deep"):
        entity_services.signal(EntityId("counter", key), "add", 5)
    drain_all()
    Entity.objects.filter(pk="@counter@deep").update(state=json.dumps(about_21_kb(899, nested_lists)))
    user = User.objects.get(username="viewer")

    page = get(viewer, reverse("entity", args=["@counter@deep"]))

    assert len(page) <= len(get(viewer, reverse("entity", args=["@counter@small"]))) + STORED_PANEL
    assert TOO_DEEP in page
    assert reverse("entity-download", args=["@counter@deep"]) in page
    push = render_detail_live("@counter@deep", user, None)
    assert len(push) <= len(render_detail_live("@counter@small", user, None)) + STORED_PANEL


def test_an_approval_with_deep_details_keeps_the_inbox_and_its_push_small(login):
    import samples.approval  # noqa: F401  (registers approve_shipment in this process)

    services.start("approve_shipment", {"order_id": "A-7", "items": 2}, instance_id="ship-A-7")
    drain_all()
    approval = Approval.objects.get(instance_id="ship-A-7")
    viewer = login("viewer", "warehouse", username="vera")
    user = User.objects.get(username="vera")
    small_page = get(viewer, reverse("approvals"))
    small_push = render_inbox_live(user, None)
    Approval.objects.filter(pk=approval.pk).update(details=json.dumps(about_21_kb(899, nested_objects)))

    page = get(viewer, reverse("approvals"))

    assert len(page) <= len(small_page) + STORED_PANEL
    assert TOO_DEEP in page
    assert reverse("approval-download", args=[approval.pk]) in page
    assert len(render_inbox_live(user, None)) <= len(small_push) + STORED_PANEL
