"""Every page needs a login, and a role that may read the console."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from orchestrations.models import HistoryRow
from tests.consoleapp.conftest import completed_instance

pytestmark = pytest.mark.django_db

PAGES = [
    ("overview", []),
    ("instances", []),
    ("instance", ["done-1"]),
    ("instance-history", ["done-1"]),
    ("history-event", ["done-1", "first-event"]),
    ("instance-download", ["done-1", "output"]),
    ("approvals", []),
    ("entities", []),
    ("functions", []),
    ("function", ["console_double"]),
    ("audit-log", []),
    ("workers", []),
    ("monitoring", []),
]


@pytest.fixture(autouse=True)
def instance():
    completed_instance("done-1")


def url(name: str, args: list) -> str:
    if "first-event" in args:
        first = HistoryRow.objects.filter(instance_id="done-1").order_by("sequence").first()
        args = [first.pk if arg == "first-event" else arg for arg in args]
    return reverse(name, args=args)


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_users_are_sent_to_log_in(client, name, args):
    page = url(name, args)

    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={page}"


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_users_without_a_role_are_refused(nobody, name, args):
    assert nobody.get(url(name, args)).status_code == 403


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_viewers_can_read(viewer, name, args):
    # "before" is what the history pages take; the other pages ignore it.
    assert viewer.get(url(name, args), {"before": 5}).status_code == 200


@pytest.mark.parametrize("name", ["overview", "instances", "approvals", "workers"])
def test_pages_refuse_post(viewer, name):
    assert viewer.post(reverse(name)).status_code == 405


def test_the_root_is_the_overview(viewer):
    assert reverse("overview") == "/"
    assert b"Throughput, last hour" in viewer.get("/").content


def test_logging_in_leads_to_the_overview(client, django_user_model):
    user = django_user_model.objects.create_user("vera", password="a-long-password-9")
    user.groups.add(Group.objects.get(name="viewer"))

    response = client.post(reverse("login"), {"username": "vera", "password": "a-long-password-9"})

    assert response["Location"] == reverse("overview")


def test_logging_out_takes_a_post(viewer):
    assert viewer.get(reverse("logout")).status_code == 405
    response = viewer.post(reverse("logout"))

    assert response["Location"] == reverse("login")
    assert viewer.get(reverse("overview")).status_code == 302


def test_the_health_check_is_there_and_the_django_admin_is_gone(admin):
    """The Django admin wrote users past the read-only setting and the audit log; the console
    manages users and keys instead."""
    assert admin.get("/healthz").status_code in (200, 503)
    assert admin.get("/admin/").status_code == 404
    assert (
        admin.post("/admin/auth/user/add/", {"username": "sneaky", "password1": "x", "password2": "x"}).status_code
        == 404
    )
