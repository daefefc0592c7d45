"""The timer schedules page: every schedule with its next occurrences and last runs; pause,
resume and run now for roles that may, audited, refused under read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from functions.models import TimerSchedule
from functions.worker import timers
from orchestrations.access.models import AuditLogEntry
from tests import function_apps_timers as apps

NAME = apps.WITH_OUTPUT


@pytest.fixture
def synced(db):
    timers.sync_timers()


def action_url(action: str, name: str = NAME) -> str:
    return reverse("schedule-action", args=[name, action])


def row() -> TimerSchedule:
    return TimerSchedule.objects.get(function_name=NAME)


def test_the_page_shows_each_schedule_with_its_next_five_occurrences(login, synced):
    response = login("viewer").get(reverse("schedules"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="schedule-{NAME}"' in page and "0 0 0 1 1 *" in page
    view = next(view for view in response.context["timers"] if view.name == NAME)
    assert len(view.upcoming) == 5
    assert "Pause" not in page  # A viewer gets no buttons.


def test_the_page_sends_anonymous_users_to_log_in(client, synced):
    response = client.get(reverse("schedules"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("action", ["pause", "resume", "run"])
def test_actions_refuse_get(login, synced, action):
    assert login("operator").get(action_url(action)).status_code == 405


@pytest.mark.parametrize("action", ["pause", "resume", "run"])
def test_actions_send_anonymous_users_to_log_in(client, synced, action):
    response = client.post(action_url(action))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not row().is_paused and row().run_requested_at is None


@pytest.mark.parametrize("action", ["pause", "resume", "run"])
def test_actions_need_a_role_that_manages_timers(login, synced, action):
    assert login("viewer").post(action_url(action)).status_code == 403
    assert login("approver").post(action_url(action)).status_code == 403
    assert not row().is_paused and row().run_requested_at is None
    assert not AuditLogEntry.objects.exists()


@pytest.mark.parametrize("action", ["pause", "resume", "run"])
def test_actions_are_refused_under_read_only(login, synced, settings, action):
    settings.PERDURA_READ_ONLY = True
    assert login("admin").post(action_url(action)).status_code == 403
    assert not row().is_paused and row().run_requested_at is None


def test_pause_and_resume_are_audited_with_the_reason(login, synced):
    operator = login("operator", username="olga")
    response = operator.post(action_url("pause"), {"reason": "maintenance window"})
    assert response.status_code == 302 and row().is_paused
    response = operator.post(action_url("resume"))
    assert response.status_code == 302 and not row().is_paused
    entries = AuditLogEntry.objects.order_by("pk").values_list("actor", "action", "target_type", "target_id", "reason")
    assert list(entries) == [
        ("olga", "pause", "timer", NAME, "maintenance window"),
        ("olga", "resume", "timer", NAME, ""),
    ]


def test_run_now_asks_for_one_run_and_is_audited(login, synced):
    response = login("operator").post(action_url("run"))
    assert response.status_code == 302
    assert row().run_requested_at is not None
    assert AuditLogEntry.objects.get().action == "run"


def test_an_unknown_timer_or_action_is_404(login, synced):
    operator = login("operator")
    assert operator.post(action_url("pause", "no_such_timer")).status_code == 404
    assert operator.post(action_url("explode")).status_code == 404
    assert not AuditLogEntry.objects.exists()
