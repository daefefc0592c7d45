"""The function keys page: whoever manages API keys creates function and host keys (shown
once) and revokes them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from functions.models import FunctionKey
from functions.services import keys
from orchestrations.access.models import AuditLogEntry

pytestmark = pytest.mark.django_db
PAGE, CREATE = reverse("function-keys"), reverse("create-function-key")


def test_the_page_is_for_admins(viewer, operator):
    assert viewer.get(PAGE).status_code == 403
    assert operator.get(PAGE).status_code == 403


def test_the_page_lists_keys_without_their_secret_and_offers_http_functions(admin):
    key, plain_key = keys.create("ci", "http_secured")

    page = admin.get(PAGE).content.decode()

    assert key.prefix in page
    assert plain_key not in page
    assert '<option value="http_secured">' in page


def test_creating_refuses_get(admin):
    assert admin.get(CREATE).status_code == 405


def test_creating_sends_anonymous_users_to_log_in(client):
    response = client.post(CREATE, {"name": "ci"})

    assert response["Location"].startswith(reverse("login"))
    assert not FunctionKey.objects.exists()


def test_creating_is_refused_to_a_viewer(viewer):
    response = viewer.post(CREATE, {"name": "ci", "function_name": "http_secured"})

    assert response.status_code == 403
    assert not FunctionKey.objects.exists()


def test_a_new_key_is_shown_once_hashed_and_audited(admin):
    response = admin.post(CREATE, {"name": "<b>bot</b>", "function_name": "http_secured"})

    page = response.content.decode()
    key = FunctionKey.objects.get()
    shown = page.split('id="new-function-key">', 1)[1].split("<", 1)[0]
    assert shown.startswith(key.prefix)
    assert keys.authenticate(shown, "http_secured") == key
    assert "<b>bot</b>" not in page and "&lt;b&gt;bot&lt;/b&gt;" in page
    assert AuditLogEntry.objects.filter(action="create_function_key", source="console").exists()
    assert shown not in admin.get(PAGE).content.decode()


def test_a_host_key_from_the_page(admin):
    admin.post(CREATE, {"name": "everything", "function_name": ""})

    assert FunctionKey.objects.get().function_name == ""


def test_bad_input_is_reported_and_changes_nothing(admin):
    response = admin.post(CREATE, {"name": "x", "function_name": "no_such_function"}, follow=True)

    assert "no HTTP function named" in response.content.decode()
    assert not FunctionKey.objects.exists()


def test_revoking(admin, viewer):
    key, _ = keys.create("ci")
    revoke = reverse("revoke-function-key", args=[key.prefix])

    assert admin.get(revoke).status_code == 405
    assert viewer.post(revoke).status_code == 403
    admin.post(revoke)

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditLogEntry.objects.filter(action="revoke_function_key", target_id=key.prefix).exists()


def test_read_only_refuses_changes(admin, settings):
    settings.PERDURA_READ_ONLY = True

    assert admin.post(CREATE, {"name": "ci"}).status_code == 403
    assert not FunctionKey.objects.exists()
