"""The instance list: filters in the URL, sortable columns, keyset paging, counts, and the
partial that htmx swaps in when the filter changes."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orchestrations import services
from orchestrations.models import Instance
from tests.consoleapp.conftest import completed_instance, failed_instance, running_instance

pytestmark = pytest.mark.django_db
URL = reverse("instances")


def shown_ids(response) -> list[str]:
    """The instance ids in the table, in order."""
    return re.findall(r'<td class="mono id-cell"><a href="[^"]*">([^<]*)</a>', response.content.decode())


def link(response, rel: str) -> str | None:
    match = re.search(rf'href="([^"]*)" rel="{rel}"', response.content.decode())
    return match.group(1).replace("&amp;", "&") if match else None


def make_instances(count: int, *, name: str = "echo_orchestrator", start=None) -> list[str]:
    """``count`` pending instances created a second apart, oldest first."""
    start = start or timezone.now() - timedelta(hours=2)
    ids = []
    for index in range(count):
        instance_id = services.start(name, index, instance_id=f"{name}-{index:03}")
        Instance.objects.filter(pk=instance_id).update(created_at=start + timedelta(seconds=index))
        ids.append(instance_id)
    return ids


def test_newest_first_by_default(viewer):
    ids = make_instances(3)

    assert shown_ids(viewer.get(URL)) == ids[::-1]


def test_several_statuses_at_once(viewer):
    running_instance("r")
    completed_instance("c")
    failed_instance("f")

    response = viewer.get(URL, {"status": ["Running", "Failed"]})

    assert sorted(shown_ids(response)) == ["f", "r"]


def test_name_prefix_and_custom_status_filters(viewer):
    make_instances(2, name="echo_orchestrator")
    make_instances(2, name="wait_for_approval")
    Instance.objects.filter(pk="wait_for_approval-001").update(custom_status='{"stage": "packing"}')

    assert shown_ids(viewer.get(URL, {"name": "wait_for_approval", "prefix": "wait_for_approval-00"})) == [
        "wait_for_approval-001",
        "wait_for_approval-000",
    ]
    assert shown_ids(viewer.get(URL, {"custom_status": "PACKING"})) == ["wait_for_approval-001"]


def test_created_presets_and_custom_ranges(viewer):
    old = make_instances(1, start=timezone.now() - timedelta(days=3))
    recent = make_instances(1, name="wait_for_approval", start=timezone.now() - timedelta(minutes=5))

    assert shown_ids(viewer.get(URL, {"created": "1h"})) == recent
    assert set(shown_ids(viewer.get(URL, {"created": "7d"}))) == {*old, *recent}
    day = timezone.localtime(timezone.now() - timedelta(days=3)).strftime("%Y-%m-%dT00:00")
    assert shown_ids(viewer.get(URL, {"created": "custom", "from": day, "to": day.replace("T00:00", "T23:59")})) == old


def test_sorting_by_name_then_newest(viewer):
    make_instances(2, name="wait_for_approval")
    make_instances(2, name="echo_orchestrator")

    assert shown_ids(viewer.get(URL, {"sort": "name"})) == [
        "echo_orchestrator-001",
        "echo_orchestrator-000",
        "wait_for_approval-001",
        "wait_for_approval-000",
    ]
    assert shown_ids(viewer.get(URL, {"sort": "-name"}))[0] == "wait_for_approval-000"


def test_the_sort_links_reverse_the_current_sort(viewer):
    page = viewer.get(URL, {"sort": "name", "status": "Pending"}).content.decode()

    assert 'href="/orchestrations/?status=Pending&amp;sort=-name"' in page


def test_keyset_pages_cover_every_instance_once(viewer, monkeypatch):
    monkeypatch.setattr("consoleapp.pages.instances.PAGE_SIZE", 4)
    ids = make_instances(10)
    seen, url = [], URL
    while url:
        page = viewer.get(url)
        seen += shown_ids(page)
        url = link(page, "next")

    assert seen == ids[::-1]


def test_the_previous_page_link_goes_back(viewer, monkeypatch):
    monkeypatch.setattr("consoleapp.pages.instances.PAGE_SIZE", 4)
    ids = make_instances(10)
    second = viewer.get(link(viewer.get(URL), "next"))
    assert shown_ids(second) == ids[::-1][4:8]

    assert shown_ids(viewer.get(link(second, "prev"))) == ids[::-1][:4]


def test_a_page_link_from_elsewhere_is_ignored_with_a_warning(viewer):
    make_instances(2)

    response = viewer.get(URL, {"after": "not-a-token"})

    assert "Ignored: the page link is not one this server made" in response.content.decode()
    assert len(shown_ids(response)) == 2


@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_page_link_past_the_last_representable_moment_is_ignored_with_a_warning(viewer, direction):
    make_instances(2)
    forged = base64.urlsafe_b64encode(json.dumps(["9999-12-31T23:59:59.999999-23:59", "x"]).encode()).decode()

    response = viewer.get(URL, {direction: forged})

    assert response.status_code == 200
    assert "Ignored: the page link is not one this server made" in response.content.decode()
    assert len(shown_ids(response)) == 2


@pytest.mark.parametrize("field", ["from", "to"])
def test_a_custom_time_past_the_last_representable_moment_is_ignored_with_a_warning(viewer, field):
    make_instances(2)

    response = viewer.get(URL, {"created": "custom", field: "9999-12-31T23:59:59.999999-23:59"})

    assert response.status_code == 200
    assert "is not a date and time this server can store" in response.content.decode()


def test_unknown_statuses_are_ignored_with_a_warning(viewer):
    response = viewer.get(URL, {"status": "Exploded"})

    assert "Ignored: unknown status Exploded" in response.content.decode()


def test_counts_by_status_follow_the_other_filters(viewer):
    running_instance("r")
    completed_instance("c1")
    completed_instance("c2")

    page = viewer.get(URL, {"prefix": "c"}).content.decode()
    counts = dict(re.findall(r'<span class="badge-dot"></span>(\w+) <b>(\d+)</b>', page))

    assert counts["Completed"] == "2"
    assert counts["Running"] == "0"


def test_an_htmx_request_gets_the_results_and_a_new_live_socket(viewer):
    completed_instance("c")

    response = viewer.get(URL, {"status": "Completed"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert page.lstrip().startswith('<div id="instances-results">')
    assert 'id="live-socket" ws-connect="/ws/console/?page=list&amp;status=Completed"' in page
    assert 'hx-swap-oob="true"' in page


def test_bulk_controls_are_for_admins_only(viewer, admin):
    completed_instance("c")

    assert 'id="bulk-form"' not in viewer.get(URL).content.decode()
    assert 'id="bulk-form"' in admin.get(URL).content.decode()


def test_the_list_says_what_retention_purges_and_when(viewer, settings):
    settings.PERDURA_RETENTION = {"Completed": 30 * 86400, "Failed": 36 * 3600, "Terminated": 90 * 60}

    page = viewer.get(URL).content.decode()

    assert "purged, with their history, after: Completed 30 days, Failed 36 hours, Terminated 90 minutes" in page


def test_the_list_says_when_retention_is_off(viewer, settings):
    settings.PERDURA_RETENTION = {}

    assert "retention is off" in viewer.get(URL).content.decode()
