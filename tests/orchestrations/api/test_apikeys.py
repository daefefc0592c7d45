"""consoleapp.apikeys: create (shown once, stored hashed), authenticate, revoke, list."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from orchestrations.access import apikeys
from orchestrations.access.audit import Actor
from orchestrations.access.models import ApiKey, AuditLogEntry

pytestmark = pytest.mark.django_db

ALICE = Actor("alice", "cli")


def test_create_returns_the_plain_key_once_and_stores_only_its_hash():
    api_key, plain_key = apikeys.create("deploy pipeline", "operator", actor=ALICE)

    stored = ApiKey.objects.get(pk=api_key.pk)
    assert plain_key.startswith(stored.prefix + "_")
    assert stored.prefix.startswith("pdk_") and len(stored.prefix) == apikeys.PREFIX_LENGTH
    assert stored.key_hash == hashlib.sha256(plain_key.encode()).hexdigest()
    assert plain_key not in {stored.name, stored.prefix, stored.key_hash, stored.created_by}
    assert (stored.name, stored.role, stored.created_by) == ("deploy pipeline", "operator", "alice")
    assert len(plain_key) > 40


def test_create_is_audited():
    api_key, _ = apikeys.create("ci", "viewer", actor=ALICE)

    entry = AuditLogEntry.objects.get(action="create_api_key")
    assert (entry.actor, entry.target_id, entry.details) == ("alice", api_key.prefix, {"name": "ci", "role": "viewer"})


def test_keys_differ_each_time():
    keys = {apikeys.create("k", "viewer")[1] for _ in range(5)}

    assert len(keys) == 5


@pytest.mark.parametrize(
    ("name", "role", "message"),
    [("", "operator", "needs a name"), ("x" * 101, "operator", "at most 100"), ("k", "superuser", "unknown role")],
)
def test_create_refuses_a_bad_name_or_role(name, role, message):
    with pytest.raises(apikeys.ApiKeyError, match=message):
        apikeys.create(name, role)
    assert not ApiKey.objects.exists()


def test_authenticate_finds_the_key_and_notes_its_use():
    api_key, plain_key = apikeys.create("k", "operator")

    found = apikeys.authenticate(plain_key)

    assert found.pk == api_key.pk
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


def test_authenticate_writes_the_last_use_at_most_once_a_minute():
    api_key, plain_key = apikeys.create("k", "operator")
    apikeys.authenticate(plain_key)
    first_use = ApiKey.objects.get(pk=api_key.pk).last_used_at

    apikeys.authenticate(plain_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first_use

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first_use - timedelta(minutes=2))
    apikeys.authenticate(plain_key)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first_use


@pytest.mark.parametrize(
    "mangle", [lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"), lambda key: key[:12], str.upper]
)
def test_authenticate_refuses_a_wrong_key(mangle):
    _, plain_key = apikeys.create("k", "operator")

    assert apikeys.authenticate(mangle(plain_key)) is None


@pytest.mark.parametrize("value", ["", "garbage", "pdk_", None])
def test_authenticate_refuses_what_is_not_a_key(value):
    apikeys.create("k", "operator")

    assert apikeys.authenticate(value) is None


def test_revoke_makes_the_key_useless_and_is_audited():
    api_key, plain_key = apikeys.create("k", "operator")

    revoked = apikeys.revoke(api_key.prefix, actor=ALICE)

    assert revoked.revoked_at is not None
    assert apikeys.authenticate(plain_key) is None
    assert AuditLogEntry.objects.get(action="revoke_api_key").target_id == api_key.prefix


def test_revoke_of_an_unknown_or_revoked_key_says_so():
    api_key, _ = apikeys.create("k", "operator")
    apikeys.revoke(api_key.prefix)

    with pytest.raises(apikeys.ApiKeyError, match="already revoked"):
        apikeys.revoke(api_key.prefix)
    with pytest.raises(apikeys.ApiKeyError, match="no API key with prefix"):
        apikeys.revoke("pdk_00000000")


def test_list_keys_shows_the_active_ones_newest_first():
    apikeys.create("first", "viewer")
    apikeys.create("second", "admin")
    revoked, _ = apikeys.create("revoked", "viewer")
    apikeys.revoke(revoked.prefix)

    assert [key.name for key in apikeys.list_keys()] == ["second", "first"]
    assert [key.name for key in apikeys.list_keys(include_revoked=True)] == ["revoked", "second", "first"]
