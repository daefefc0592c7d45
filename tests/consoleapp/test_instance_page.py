"""One instance's page: its status and data, what it waits for, its timeline, and its history
in pages that stay small however long the history grows."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from consoleapp.pages.instance import HISTORY_PAGE_SIZE
from orchestrations import services
from orchestrations.models import HistoryRow, Instance
from orchestrations.worker.loop import drain_all
from tests.consoleapp.conftest import completed_instance, failed_instance, running_instance

pytestmark = pytest.mark.django_db
XSS = "<img src=x onerror=alert(1)>"


def page_of(client, instance_id: str) -> str:
    response = client.get(reverse("instance", args=[instance_id]))
    assert response.status_code == 200
    return response.content.decode()


def word_count(instance_id: str, documents: int) -> str:
    """A fan-out instance with about 2 x ``documents`` history events."""
    batch = [{"title": f"doc {index}", "text": "one two three"} for index in range(documents)]
    services.start("word_count_report", batch, instance_id=instance_id)
    drain_all()
    return instance_id


def test_a_completed_instance_shows_its_output_as_indented_json(viewer):
    completed_instance("done", {"greeting": "hello", "count": 2})

    page = page_of(viewer, "done")

    assert "Completed" in page
    assert '<span class="j-key">&quot;greeting&quot;</span>: <span class="j-string">&quot;hello&quot;</span>' in page
    assert reverse("instance-download", args=["done", "output"]) in page


def test_a_failed_instance_shows_the_error_and_its_stack_trace(viewer):
    failed_instance("broken")

    page = page_of(viewer, "broken")

    assert "TaskFailedError" in page
    assert "boom" in page
    assert "Stack trace" in page


def test_user_data_is_shown_as_text_everywhere(viewer):
    instance_id = f"xss-{XSS}"
    services.start("echo_orchestrator", {"note": XSS}, instance_id=instance_id)
    drain_all()
    Instance.objects.filter(pk=instance_id).update(custom_status=json.dumps(XSS))

    pages = [page_of(viewer, instance_id), viewer.get(reverse("instances")).content.decode()]

    for page in pages:
        assert "<img" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_running_instance_waits_for_the_event_its_code_waits_for(operator):
    running_instance("waiting")

    page = page_of(operator, "waiting")

    waiting = page[page.index('-waiting"') : page.index("</section>", page.index('-waiting"'))]
    assert '<span class="tag event">event</span> <b>approval</b>' in waiting
    # The raise-event dialog offers that name.
    assert '<option value="approval">' in waiting
    assert 'data-event-name="approval"' in waiting


def test_an_instance_waiting_for_an_approval_offers_the_decision_to_approvers(login):
    import samples.approval  # noqa: F401

    services.start("approve_shipment", {"order_id": "B-1", "items": 1}, instance_id="ship-B-1")
    drain_all()
    approver = login("approver", "warehouse")

    page = page_of(approver, "ship-B-1")

    assert "Ship order B-1?" in page
    assert 'name="decision" value="approve"' in page


def test_timers_and_activities_in_flight_are_listed(viewer):
    services.start(
        "approve_purchase_order", {"purchase_order": "PO-1", "amount": 5, "timeout_seconds": 3600}, instance_id="po"
    )
    drain_all()

    waiting = page_of(viewer, "po")

    assert "timer firing" in waiting
    assert "<b>Approval</b>" in waiting  # The external event it races the timer against.


def test_the_timeline_has_a_bar_per_durable_call(viewer):
    word_count("fan-out", 3)

    page = page_of(viewer, "fan-out")

    assert len(re.findall(r'class="gantt-bar activity completed"', page)) == 3


def test_the_history_shows_the_newest_page_and_a_button_for_older_events(viewer):
    word_count("long", 60)
    total = HistoryRow.objects.filter(instance_id="long").count()
    assert total > HISTORY_PAGE_SIZE

    page = page_of(viewer, "long")

    history = page[page.index('-history-live"') : page.index("</tbody>", page.index('-history-live"'))]
    assert history.count('<tr class="event') == HISTORY_PAGE_SIZE
    oldest_shown = total - HISTORY_PAGE_SIZE
    assert f"{reverse('instance-history', args=['long'])}?before={oldest_shown}" in page


def test_older_history_pages_are_keyset_paged_by_sequence(viewer):
    word_count("long", 60)

    response = viewer.get(reverse("instance-history", args=["long"]), {"before": 10})

    sequences = [int(number) for number in re.findall(r'<td class="num muted">(\d+)</td>', response.content.decode())]
    assert sequences == list(range(9, -1, -1))
    assert "older events" not in response.content.decode()  # Nothing is older than event 0.


def test_one_history_event_opens_with_its_payload(viewer):
    completed_instance("done", {"deep": {"value": XSS}})

    started = HistoryRow.objects.get(instance_id="done", event_type="ExecutionStarted")

    response = viewer.get(reverse("history-event", args=["done", started.pk]))

    assert response.status_code == 200
    assert "&lt;img" in response.content.decode()
    assert "<img" not in response.content.decode()


def test_a_download_is_the_indented_json_as_an_attachment(viewer):
    completed_instance("done", {"a": 1})

    response = viewer.get(reverse("instance-download", args=["done", "output"]))

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="done-output.json"'
    assert json.loads(response.content) == {"a": 1}
    assert response.content.decode() == '{\n  "a": 1\n}'


def test_only_known_parts_can_be_downloaded(viewer):
    completed_instance("done")

    assert viewer.get(reverse("instance-download", args=["done", "secrets"])).status_code == 404


def test_sub_orchestrations_are_linked_both_ways(viewer):
    services.start("edit_document", {"text": "Hello.  Mail a@b.c", "steps": ["tidy"]}, instance_id="parent")
    drain_all()
    child = Instance.objects.get(parent_instance_id="parent")

    assert reverse("instance", args=[child.pk]) in page_of(viewer, "parent")
    assert reverse("instance", args=["parent"]) in page_of(viewer, child.pk)


def test_actions_shown_follow_the_status_and_the_role(viewer, operator, admin):
    completed_instance("done")
    running_instance("running")

    assert 'data-open-dialog="dialog-terminate"' in page_of(operator, "running")
    assert 'data-open-dialog="dialog-terminate"' not in page_of(operator, "done")
    assert 'data-open-dialog="dialog-purge"' in page_of(admin, "done")
    assert 'data-open-dialog="dialog-purge"' not in page_of(operator, "done")
    assert 'class="actions"' not in page_of(viewer, "running")
