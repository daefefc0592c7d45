"""Auth levels of HTTP functions, function keys (hashed, audited, revoked) and the CLI's
``durable function-key``."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from functions.models import FunctionKey
from functions.services import keys
from functions.worker import recorder
from orchestrations.access import apikeys
from orchestrations.access.audit import Actor
from orchestrations.access.models import AuditLogEntry

pytestmark = pytest.mark.django_db(transaction=True)

SECURED, OTHER, ADMIN_ONLY = "/api/httptest/secured", "/api/httptest/other-secured", "/api/httptest/admin"


@pytest.fixture
def client(function_client):
    """Every test here runs through Django's handler and as a server calls the application."""
    return function_client


@pytest.fixture(autouse=True)
def empty_recorder():
    yield
    recorder.flush()


def test_anonymous_functions_need_no_key(client):
    assert client.get("/api/httptest/hello").status_code == 200


def test_a_function_level_function_refuses_a_call_without_a_key(client):
    response = client.get(SECURED)

    assert response.status_code == 401
    assert "x-functions-key" in response.json()["Message"]


def test_a_key_of_the_function_opens_it_in_the_header_or_the_query(client):
    _, plain_key = keys.create("caller", "http_secured")

    assert client.get(SECURED, headers={"x-functions-key": plain_key}).content == b"function level"
    assert client.get(SECURED, {"code": plain_key}).status_code == 200


def test_a_host_key_opens_every_function_level_function(client):
    _, plain_key = keys.create("everything")

    assert client.get(SECURED, {"code": plain_key}).status_code == 200
    assert client.get(OTHER, {"code": plain_key}).status_code == 200


def test_another_functions_key_is_refused(client):
    _, plain_key = keys.create("caller", "http_other_secured")

    assert client.get(SECURED, {"code": plain_key}).status_code == 401
    assert client.get(OTHER, {"code": plain_key}).status_code == 200


def test_a_wrong_key_is_refused_and_not_echoed(client):
    _, plain_key = keys.create("caller", "http_secured")
    wrong = plain_key[:-4] + "AAAA"

    response = client.get(SECURED, headers={"x-functions-key": wrong})

    assert response.status_code == 401
    assert wrong not in response.content.decode()


def test_a_revoked_key_is_refused(client):
    key, plain_key = keys.create("caller", "http_secured")
    keys.revoke(key.prefix)

    assert client.get(SECURED, {"code": plain_key}).status_code == 401


def test_an_admin_api_key_is_the_master_key(client):
    _, admin_key = apikeys.create("master", "admin")

    assert client.get(SECURED, {"code": admin_key}).status_code == 200
    assert client.get(ADMIN_ONLY, headers={"x-functions-key": admin_key}).content == b"admin level"


def test_admin_level_refuses_function_and_host_keys_and_lesser_api_keys(client):
    _, function_key = keys.create("caller", "http_admin")
    _, host_key = keys.create("host")
    _, operator_key = apikeys.create("ops", "operator")

    for key in (function_key, host_key, operator_key):
        assert client.get(ADMIN_ONLY, {"code": key}).status_code == 401
    assert client.get(SECURED, {"code": operator_key}).status_code == 401


def test_keys_are_stored_hashed_and_audited():
    actor = Actor("ops", AuditLogEntry.Source.CLI)
    key, plain_key = keys.create("deploy bot", "http_secured", actor=actor)
    keys.revoke(key.prefix, actor=actor)

    stored = FunctionKey.objects.get()
    assert plain_key.startswith(stored.prefix)
    assert stored.key_hash == hashlib.sha256(plain_key.encode()).hexdigest()
    assert plain_key not in str(list(FunctionKey.objects.values()))
    actions = list(AuditLogEntry.objects.order_by("created_at", "id").values_list("action", "target_id"))
    assert actions == [("create_function_key", key.prefix), ("revoke_function_key", key.prefix)]


@pytest.mark.parametrize(
    ("name", "function_name", "message"),
    [("", "", "needs a name"), ("x", "no_such_function", "no HTTP function named 'no_such_function'")],
)
def test_creating_refuses_bad_input_and_changes_nothing(name, function_name, message):
    with pytest.raises(keys.FunctionKeyError, match=message):
        keys.create(name, function_name)
    assert not FunctionKey.objects.exists()


def test_revoking_twice_or_an_unknown_prefix_is_refused():
    key, _ = keys.create("caller")
    keys.revoke(key.prefix)

    with pytest.raises(keys.FunctionKeyError, match="already revoked"):
        keys.revoke(key.prefix)
    with pytest.raises(keys.FunctionKeyError, match="no function key"):
        keys.revoke("pfk_00000000")


# The CLI.


def durable(*args: str) -> str:
    out = io.StringIO()
    call_command("durable", *args, stdout=out)
    return out.getvalue()


def test_the_cli_creates_lists_and_revokes_keys(client):
    output = durable("function-key", "create", "--function", "http_secured", "--name", "cli caller")
    plain_key = output.splitlines()[1]
    key = FunctionKey.objects.get()

    assert client.get(SECURED, {"code": plain_key}).status_code == 200
    assert key.prefix in durable("function-key", "list")
    assert plain_key not in durable("function-key", "list", "--json")
    assert "Revoked" in durable("function-key", "revoke", key.prefix)
    assert client.get(SECURED, {"code": plain_key}).status_code == 401
    assert AuditLogEntry.objects.filter(actor__startswith="cli:", action="create_function_key").exists()


def test_the_cli_creates_host_keys():
    durable("function-key", "create", "--host", "--name", "everything")

    assert FunctionKey.objects.get().function_name == ""


@pytest.mark.parametrize(
    "args",
    [
        ("function-key", "create", "--function", "no_such_function", "--name", "x"),
        ("function-key", "create", "--name", "x"),
        ("function-key", "create", "--host", "--function", "http_secured", "--name", "x"),
        ("function-key", "revoke", "pfk_00000000"),
    ],
)
def test_the_cli_exits_2_on_bad_input(args):
    with pytest.raises(CommandError) as raised:
        durable(*args)

    assert raised.value.returncode == 2
    assert not FunctionKey.objects.exists()


def test_the_cli_refuses_changes_when_read_only_but_lists(settings):
    settings.PERDURA_READ_ONLY = True

    with pytest.raises(CommandError, match="PERDURA_READ_ONLY") as raised:
        durable("function-key", "create", "--host", "--name", "x")

    assert raised.value.returncode == 2
    assert not FunctionKey.objects.exists()
    assert "No function keys" in durable("function-key", "list")
