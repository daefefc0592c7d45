from __future__ import annotations

import pytest

from orchestrations.access import apikeys
from orchestrations.access.models import ApiKey, AuditLogEntry
from tests.orchestrations.management.runner import durable

pytestmark = pytest.mark.django_db


def test_create_prints_the_key_once_and_stores_only_its_hash():
    outcome = durable("apikey", "create", "--role", "operator", "--name", "deploy pipeline")

    assert outcome.exit_code == 0
    plain_key = outcome.stdout.splitlines()[1]
    key = ApiKey.objects.get()
    assert (key.name, key.role, key.prefix) == ("deploy pipeline", "operator", plain_key[: apikeys.PREFIX_LENGTH])
    assert plain_key not in key.key_hash
    assert apikeys.authenticate(plain_key) == key


def test_create_is_audited_as_the_cli_user():
    durable("apikey", "create", "--role", "viewer")

    entry = AuditLogEntry.objects.get(action="create_api_key")
    assert entry.source == "cli"
    assert entry.details["role"] == "viewer"


def test_create_with_an_unknown_role_exits_2_and_creates_nothing():
    outcome = durable("apikey", "create", "--role", "superuser")

    assert outcome.exit_code == 2
    assert "invalid choice" in outcome.stderr
    assert not ApiKey.objects.exists()


def test_list_shows_keys_but_never_the_keys_themselves():
    plain_key = durable("apikey", "create", "--role", "admin", "--name", "ops").stdout.splitlines()[1]

    outcome = durable("apikey", "list")

    assert outcome.exit_code == 0
    assert "ops" in outcome.stdout and "admin" in outcome.stdout
    assert plain_key not in outcome.stdout
    assert plain_key[apikeys.PREFIX_LENGTH :] not in outcome.stdout


def test_revoke_refuses_the_key_from_then_on():
    plain_key = durable("apikey", "create", "--role", "operator").stdout.splitlines()[1]
    prefix = plain_key[: apikeys.PREFIX_LENGTH]

    outcome = durable("apikey", "revoke", prefix)

    assert outcome.exit_code == 0
    assert apikeys.authenticate(plain_key) is None
    assert durable("apikey", "list").stdout.strip() == "No API keys."
    assert prefix in durable("apikey", "list", "--all", "--json").stdout


def test_revoking_an_unknown_prefix_exits_2():
    outcome = durable("apikey", "revoke", "pdk_00000000")

    assert outcome.exit_code == 2
    assert "no API key with prefix" in outcome.stderr
