"""Bulk actions on the instance list: the first post answers with a confirmation stating the
count; the action runs only when that count is posted back."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all
from tests.consoleapp.conftest import completed_instance, running_instance

pytestmark = pytest.mark.django_db
URL = reverse("bulk-action")


def test_bulk_actions_refuse_get(admin):
    assert admin.get(URL).status_code == 405


def test_bulk_actions_send_anonymous_users_to_log_in(client):
    running_instance("a")

    response = client.post(URL, {"action": "terminate", "instance_ids": ["a"], "confirmed_count": "1"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert Instance.objects.get(pk="a").runtime_status == "Running"


def test_bulk_actions_are_for_admins(operator):
    running_instance("a")

    response = operator.post(URL, {"action": "terminate", "instance_ids": ["a"], "confirmed_count": "1"})
    drain_all()

    assert response.status_code == 403
    assert Instance.objects.get(pk="a").runtime_status == "Running"


def test_the_first_post_asks_to_confirm_the_count_and_changes_nothing(admin):
    running_instance("a")
    running_instance("b")

    response = admin.post(URL, {"action": "terminate", "scope": "selected", "instance_ids": ["a", "b"]})
    drain_all()

    assert response.status_code == 200
    assert "Terminate 2 instances?" in response.content.decode()
    assert 'name="confirmed_count" value="2"' in response.content.decode()
    assert set(Instance.objects.values_list("runtime_status", flat=True)) == {"Running"}


def test_the_confirmation_is_a_fragment_for_htmx(admin):
    running_instance("a")

    response = admin.post(URL, {"action": "suspend", "instance_ids": ["a"]}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert "Suspend 1 instance?" in response.content.decode()


def test_confirmed_selected_instances_are_terminated_with_the_reason(admin):
    for instance_id in ("a", "b", "c"):
        running_instance(instance_id)

    response = admin.post(
        URL,
        {
            "action": "terminate",
            "scope": "selected",
            "instance_ids": ["a", "b"],
            "confirmed_count": "2",
            "reason": "cleanup",
        },
    )
    drain_all()

    assert response.status_code == 302
    statuses = dict(Instance.objects.values_list("instance_id", "runtime_status"))
    assert statuses == {"a": "Terminated", "b": "Terminated", "c": "Running"}
    assert set(AuditLogEntry.objects.values_list("target_id", "reason")) == {("a", "cleanup"), ("b", "cleanup")}


def test_all_filtered_instances_are_purged(admin):
    completed_instance("done-1")
    completed_instance("done-2")
    running_instance("still-running")
    filter_query = urlencode([("status", "Completed")])

    admin.post(URL, {"action": "purge", "scope": "filtered", "filter": filter_query, "confirmed_count": "2"})

    assert list(Instance.objects.values_list("instance_id", flat=True)) == ["still-running"]


def test_a_count_that_changed_since_the_confirmation_asks_again(admin):
    completed_instance("done-1")
    completed_instance("done-2")
    filter_query = urlencode([("status", "Completed")])

    response = admin.post(URL, {"action": "purge", "scope": "filtered", "filter": filter_query, "confirmed_count": "1"})

    assert response.status_code == 200
    assert "The number of matching instances changed" in response.content.decode()
    assert Instance.objects.count() == 2


def test_instances_an_action_does_not_apply_to_are_reported(admin):
    running_instance("running")
    completed_instance("done")

    response = admin.post(
        URL, {"action": "terminate", "instance_ids": ["running", "done"], "confirmed_count": "2"}, follow=True
    )

    page = response.content.decode()
    assert "Terminated 1 of 2 instances." in page
    assert "1 could not be changed: done: instance" in page


def test_the_bulk_action_needs_the_actions_own_permission_too(login):
    from django.contrib.auth.models import Group, Permission

    bulk_only = Group.objects.create(name="bulk-only")
    bulk_only.permissions.set(Permission.objects.filter(codename__in=["view_console", "bulk_action"]))
    client = login("bulk-only")
    completed_instance("done")

    response = client.post(URL, {"action": "purge", "instance_ids": ["done"], "confirmed_count": "1"})

    assert response.status_code == 403
    assert Instance.objects.filter(pk="done").exists()


def test_more_than_the_limit_is_refused(admin, monkeypatch):
    monkeypatch.setattr("consoleapp.pages.instances.BULK_LIMIT", 2)
    for instance_id in ("a", "b", "c"):
        completed_instance(instance_id)

    response = admin.post(
        URL, {"action": "purge", "scope": "filtered", "filter": "", "confirmed_count": "3"}, follow=True
    )

    assert "matches more than 2 instances" in response.content.decode()
    assert Instance.objects.count() == 3


def test_an_unknown_action_is_a_bad_request(admin):
    response = admin.post(URL, {"action": "explode", "instance_ids": ["a"]})

    assert response.status_code == 400
