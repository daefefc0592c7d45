"""The audit log page: every change, filterable, newest first, keyset paged."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.urls import reverse

from consoleapp.templatetags.console import TOOLTIP_LIMIT
from orchestrations.access.audit import Actor
from orchestrations.access.audit import record as audit
from orchestrations.access.models import AuditLogEntry

pytestmark = pytest.mark.django_db
URL = reverse("audit-log")


def actions_shown(response) -> list[str]:
    return re.findall(r"<td><b>([^<]+)</b></td>", response.content.decode())


def test_entries_show_who_did_what_to_what_and_why(viewer):
    audit(Actor("maria", "console", None), "terminate", "instance", "order-1", reason="stuck")

    page = viewer.get(URL).content.decode()

    assert "maria" in page
    assert "<b>terminate</b>" in page
    assert reverse("instance", args=["order-1"]) in page
    assert "stuck" in page


def test_filters_by_actor_action_target_and_source(viewer):
    audit(Actor("maria", "console", None), "terminate", "instance", "order-1")
    audit(Actor("cli:root", "cli", None), "purge", "instance", "order-2")
    audit(Actor("apikey:ci", "api", None), "start", "instance", "batch-1")

    assert actions_shown(viewer.get(URL, {"actor": "MAR"})) == ["terminate"]
    assert actions_shown(viewer.get(URL, {"action": "purge"})) == ["purge"]
    assert actions_shown(viewer.get(URL, {"target": "batch"})) == ["start"]
    assert actions_shown(viewer.get(URL, {"source": "cli"})) == ["purge"]


def test_older_entries_are_a_page_away(viewer, monkeypatch):
    monkeypatch.setattr("consoleapp.pages.audit_log.AUDIT_PAGE_SIZE", 2)
    for number in range(5):
        audit(Actor("maria", "console", None), f"action-{number}", "instance", str(number))

    first = viewer.get(URL)
    older = re.search(r'href="\?after=([^"]+)">Older', first.content.decode()).group(1)
    second = viewer.get(URL, {"after": unquote(older)})

    assert actions_shown(first) == ["action-4", "action-3"]
    assert actions_shown(second) == ["action-2", "action-1"]
    assert AuditLogEntry.objects.count() == 5


def test_user_text_in_entries_is_escaped(viewer):
    audit(Actor("<script>x()</script>", "console", None), "approve", "approval", "1", reason="<b>ok</b>")

    page = viewer.get(URL).content.decode()

    assert "<script>x()" not in page
    assert "&lt;b&gt;ok&lt;/b&gt;" in page


def test_long_details_are_cut_to_a_tooltip(viewer):
    audit(Actor("maria", "console", None), "raise_event", "instance", "order-1", details={"event_name": "e"})
    small_page = viewer.get(URL).content.decode()
    audit(
        Actor("maria", "console", None), "raise_event", "instance", "order-2", details={"event_name": "e" * 1_000_000}
    )

    page = viewer.get(URL).content.decode()

    # One row more, whose title holds a tooltip's worth of the details rather than a megabyte.
    assert len(page) < len(small_page) + 4 * TOOLTIP_LIMIT
    assert "e" * (TOOLTIP_LIMIT - 30) + "…" in page
