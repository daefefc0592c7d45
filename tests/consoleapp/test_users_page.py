"""The users page: admins create users and set their roles."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from orchestrations.access.models import AuditLogEntry

pytestmark = pytest.mark.django_db
CREATE = reverse("create-user")


def roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_the_page_is_for_admins(operator):
    assert operator.get(reverse("users")).status_code == 403


def test_the_page_lists_users_and_their_roles(admin, make_user):
    make_user("olga", "operator", "warehouse")

    page = admin.get(reverse("users")).content.decode()

    assert "olga" in page
    assert "warehouse" in page


def test_creating_refuses_get(admin):
    assert admin.get(CREATE).status_code == 405


def test_creating_sends_anonymous_users_to_log_in(client):
    response = client.post(CREATE, {"username": "eve", "password": "a-long-password-9"})

    assert response["Location"].startswith(reverse("login"))
    assert not User.objects.filter(username="eve").exists()


def test_creating_is_for_admins(operator):
    response = operator.post(CREATE, {"username": "eve", "password": "a-long-password-9"})

    assert response.status_code == 403
    assert not User.objects.filter(username="eve").exists()


def test_a_new_user_gets_the_chosen_roles_and_can_log_in(admin, client):
    admin.post(CREATE, {"username": "olga", "password": "a-long-password-9", "roles": ["operator", "approver"]})

    assert roles_of("olga") == {"operator", "approver"}
    logged_in = client.post(reverse("login"), {"username": "olga", "password": "a-long-password-9"})
    assert logged_in["Location"] == reverse("overview")
    assert AuditLogEntry.objects.get().details == {"roles": ["operator", "approver"]}


def test_a_weak_password_is_refused(admin):
    response = admin.post(CREATE, {"username": "olga", "password": "123"}, follow=True)

    assert "too short" in response.content.decode()
    assert not User.objects.filter(username="olga").exists()


def test_setting_roles_refuses_get(admin, make_user):
    olga = make_user("olga", "viewer")

    assert admin.get(reverse("set-user-roles", args=[olga.pk])).status_code == 405


def test_setting_roles_sends_anonymous_users_to_log_in(client, make_user):
    olga = make_user("olga", "viewer")

    response = client.post(reverse("set-user-roles", args=[olga.pk]), {"roles": ["admin"]})

    assert response["Location"].startswith(reverse("login"))
    assert roles_of("olga") == {"viewer"}


def test_setting_roles_is_for_admins(operator, make_user):
    olga = make_user("olga", "viewer")

    response = operator.post(reverse("set-user-roles", args=[olga.pk]), {"roles": ["admin"]})

    assert response.status_code == 403
    assert roles_of("olga") == {"viewer"}


def test_setting_roles_keeps_the_assignee_groups(admin, make_user):
    olga = make_user("olga", "viewer", "warehouse")

    admin.post(reverse("set-user-roles", args=[olga.pk]), {"roles": ["approver"]})

    assert roles_of("olga") == {"approver", "warehouse"}
    assert AuditLogEntry.objects.get().action == "set_roles"
