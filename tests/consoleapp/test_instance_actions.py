"""The action views of one instance: raise event, suspend, resume, terminate, rewind,
restart, purge. Each refuses other methods (405), sends anonymous users to the login page,
refuses users whose role lacks the action (403), and does the action through the service,
which writes the audit entry."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from orchestrations import services
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import HistoryRow, Instance
from orchestrations.worker.loop import drain_all
from tests.consoleapp.conftest import completed_instance, failed_instance, running_instance

pytestmark = pytest.mark.django_db

ACTIONS = ["raise-event", "suspend", "resume", "terminate", "rewind", "restart", "purge"]
#: A role that may read but not do each action.
WITHOUT_THE_ROLE = {
    "raise-event": "viewer",
    "suspend": "viewer",
    "resume": "approver",
    "terminate": "viewer",
    "rewind": "approver",
    "restart": "viewer",
    "purge": "operator",  # Purging is for admins.
}


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_refuses_get(action, admin):
    instance_id = running_instance()

    response = admin.get(reverse(action, args=[instance_id]))

    assert response.status_code == 405


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_sends_anonymous_users_to_log_in(action, client):
    instance_id = running_instance()

    response = client.post(reverse(action, args=[instance_id]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Instance.objects.get(pk=instance_id).runtime_status == "Running"


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_requires_its_role(action, login):
    instance_id = completed_instance() if action == "purge" else running_instance()
    client = login(WITHOUT_THE_ROLE[action])

    response = client.post(reverse(action, args=[instance_id]), {"event_name": "approval", "reason": "no"})

    assert response.status_code == 403
    assert Instance.objects.filter(pk=instance_id).exists()
    assert not AuditLogEntry.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_on_an_unknown_instance_is_not_found(action, admin):
    response = admin.post(reverse(action, args=["no-such-instance"]))

    assert response.status_code == 404


def test_raise_event_delivers_the_json_data(operator):
    instance_id = running_instance()

    response = operator.post(
        reverse("raise-event", args=[instance_id]), {"event_name": "approval", "data": '{"ok": true}'}
    )
    drain_all()

    assert response.status_code == 302
    instance = Instance.objects.get(pk=instance_id)
    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {"ok": True}
    entry = AuditLogEntry.objects.get(action="raise_event")
    assert (entry.actor, entry.target_id, entry.details) == ("operator", instance_id, {"event_name": "approval"})


def test_raise_event_with_data_that_is_not_json_changes_nothing(operator):
    instance_id = running_instance()

    response = operator.post(reverse("raise-event", args=[instance_id]), {"event_name": "approval", "data": "{nope"})
    drain_all()

    assert response.status_code == 302
    assert Instance.objects.get(pk=instance_id).runtime_status == "Running"
    page = operator.get(response["Location"])
    assert "the event data is not valid JSON" in page.content.decode()


def test_raise_event_with_data_nested_too_deeply_changes_nothing(operator):
    instance_id = running_instance()

    response = operator.post(
        reverse("raise-event", args=[instance_id]), {"event_name": "approval", "data": "[" * 50_000 + "]" * 50_000}
    )
    drain_all()

    assert response.status_code == 302
    assert Instance.objects.get(pk=instance_id).runtime_status == "Running"
    assert "the event data is nested too deeply" in operator.get(response["Location"]).content.decode()


def test_suspend_then_resume_with_reasons(operator):
    instance_id = running_instance()

    operator.post(reverse("suspend", args=[instance_id]), {"reason": "investigating"})
    drain_all()
    assert Instance.objects.get(pk=instance_id).runtime_status == "Suspended"

    operator.post(reverse("resume", args=[instance_id]), {"reason": "all clear"})
    drain_all()
    assert Instance.objects.get(pk=instance_id).runtime_status == "Running"
    reasons = dict(AuditLogEntry.objects.values_list("action", "reason"))
    assert reasons == {"suspend": "investigating", "resume": "all clear"}


def test_terminate_records_who_and_why(operator):
    instance_id = running_instance()

    response = operator.post(reverse("terminate", args=[instance_id]), {"reason": "stuck order"})
    drain_all()

    assert response["Location"] == reverse("instance", args=[instance_id])
    assert Instance.objects.get(pk=instance_id).runtime_status == "Terminated"
    entry = AuditLogEntry.objects.get()
    assert (entry.actor, entry.source, entry.action, entry.reason) == (
        "operator",
        "console",
        "terminate",
        "stuck order",
    )


def test_terminating_a_finished_instance_says_why_it_cannot(operator):
    instance_id = completed_instance()

    response = operator.post(reverse("terminate", args=[instance_id]), follow=True)

    assert "has already finished" in response.content.decode()
    assert not AuditLogEntry.objects.exists()


def test_rewind_runs_the_failed_call_again(operator):
    instance_id = failed_instance()

    response = operator.post(reverse("rewind", args=[instance_id]), {"reason": "fixed the bug"})

    assert response.status_code == 302
    assert Instance.objects.get(pk=instance_id).runtime_status == "Running"
    assert AuditLogEntry.objects.get().reason == "fixed the bug"


def test_restart_under_the_same_id_replaces_it_for_an_admin(admin):
    instance_id = completed_instance(value="again")

    response = admin.post(reverse("restart", args=[instance_id]))
    drain_all()

    assert response["Location"] == reverse("instance", args=[instance_id])
    assert Instance.objects.get(pk=instance_id).runtime_status == "Completed"
    entry = AuditLogEntry.objects.get(action="restart")
    assert (entry.target_id, entry.details["replaced_status"]) == (instance_id, "Completed")


def test_an_operator_may_not_restart_under_the_same_id_which_would_erase_the_history(operator):
    """Replacing a finished instance erases its history, as a purge does: an operator cannot."""
    instance_id = completed_instance(value="keep me")
    history = list(HistoryRow.objects.filter(instance_id=instance_id).values_list("pk", flat=True))

    response = operator.post(reverse("restart", args=[instance_id]), follow=True)

    assert "needs the purge permission" in response.content.decode()
    assert list(HistoryRow.objects.filter(instance_id=instance_id).values_list("pk", flat=True)) == history
    assert not AuditLogEntry.objects.exists()
    page = operator.get(reverse("instance", args=[instance_id])).content.decode()
    assert '<input type="hidden" name="new_instance_id" value="on">' in page


def test_restart_under_a_new_id_goes_to_the_new_instance(operator):
    instance_id = running_instance()

    response = operator.post(reverse("restart", args=[instance_id]), {"new_instance_id": "on"})

    restarted = AuditLogEntry.objects.get(action="restart").details["new_instance_id"]
    assert restarted != instance_id
    assert response["Location"] == reverse("instance", args=[restarted])
    assert Instance.objects.get(pk=instance_id).runtime_status == "Running"


def test_purge_deletes_the_instance_and_returns_to_the_list(admin):
    instance_id = completed_instance()

    response = admin.post(reverse("purge", args=[instance_id]))

    assert response["Location"] == reverse("instances")
    assert not Instance.objects.filter(pk=instance_id).exists()
    assert AuditLogEntry.objects.get().action == "purge"


@pytest.mark.parametrize(
    ("action", "audited_as", "user", "make_instance", "form"),
    [
        ("raise-event", "raise_event", "operator", running_instance, {"event_name": "approval"}),
        ("restart", "restart", "operator", completed_instance, {"new_instance_id": "on"}),
        ("purge", "purge", "admin", completed_instance, {}),
    ],
)
def test_every_action_keeps_its_reason_in_the_audit_log(action, audited_as, user, make_instance, form, request):
    client = request.getfixturevalue(user)
    instance_id = make_instance()

    client.post(reverse(action, args=[instance_id]), {**form, "reason": "asked by support, ticket 7"})

    assert AuditLogEntry.objects.get(action=audited_as).reason == "asked by support, ticket 7"


def test_actions_work_on_instance_ids_with_odd_characters(operator):
    instance_id = "order 42: <b>%20&amp;"
    services.start("wait_for_approval", None, instance_id=instance_id)
    drain_all()

    response = operator.post(reverse("terminate", args=[instance_id]), {"reason": "test"})
    drain_all()

    assert response.status_code == 302
    assert Instance.objects.get(pk=instance_id).runtime_status == "Terminated"


def test_a_read_only_deployment_refuses_every_action(settings, admin):
    settings.PERDURA_READ_ONLY = True
    instance_id = running_instance()

    response = admin.post(reverse("terminate", args=[instance_id]))

    assert response.status_code == 403
    assert Instance.objects.get(pk=instance_id).runtime_status == "Running"
