"""The API keys page: admins create keys (shown once) and revoke them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orchestrations.access import apikeys
from orchestrations.access.models import ApiKey, AuditLogEntry

pytestmark = pytest.mark.django_db
CREATE = reverse("create-api-key")


def test_the_page_is_for_admins(operator):
    assert operator.get(reverse("api-keys")).status_code == 403


def test_the_page_lists_keys_without_their_secret(admin):
    api_key, plain_key = apikeys.create("ci", "operator")

    page = admin.get(reverse("api-keys")).content.decode()

    assert api_key.prefix in page
    assert plain_key not in page


def test_creating_refuses_get(admin):
    assert admin.get(CREATE).status_code == 405


def test_creating_sends_anonymous_users_to_log_in(client):
    response = client.post(CREATE, {"name": "ci", "role": "operator"})

    assert response["Location"].startswith(reverse("login"))
    assert not ApiKey.objects.exists()


def test_creating_is_for_admins(operator):
    response = operator.post(CREATE, {"name": "ci", "role": "operator"})

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_a_new_key_is_shown_once_and_works(admin):
    response = admin.post(CREATE, {"name": "deploy bot", "role": "operator"})

    page = response.content.decode()
    api_key = ApiKey.objects.get()
    start = page.index('id="new-api-key">') + len('id="new-api-key">')
    plain_key = page[start : page.index("</code>", start)]
    assert apikeys.authenticate(plain_key) == api_key
    assert plain_key not in admin.get(reverse("api-keys")).content.decode()
    assert AuditLogEntry.objects.get().actor == "admin"


def test_a_key_needs_a_known_role(admin):
    response = admin.post(CREATE, {"name": "x", "role": "superhero"}, follow=True)

    assert "unknown role" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoking_refuses_get(admin):
    api_key, _ = apikeys.create("ci", "viewer")

    assert admin.get(reverse("revoke-api-key", args=[api_key.prefix])).status_code == 405


def test_revoking_sends_anonymous_users_to_log_in(client):
    api_key, _ = apikeys.create("ci", "viewer")

    response = client.post(reverse("revoke-api-key", args=[api_key.prefix]))

    assert response["Location"].startswith(reverse("login"))
    assert ApiKey.objects.get().is_active


def test_revoking_is_for_admins(operator):
    api_key, _ = apikeys.create("ci", "viewer")

    response = operator.post(reverse("revoke-api-key", args=[api_key.prefix]))

    assert response.status_code == 403
    assert ApiKey.objects.get().is_active


def test_a_revoked_key_stops_working(admin):
    api_key, plain_key = apikeys.create("ci", "viewer")

    response = admin.post(reverse("revoke-api-key", args=[api_key.prefix]))

    assert response["Location"] == reverse("api-keys")
    assert apikeys.authenticate(plain_key) is None
    assert AuditLogEntry.objects.filter(action="revoke_api_key", actor="admin").exists()
