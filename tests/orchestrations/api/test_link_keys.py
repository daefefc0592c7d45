"""Link keys (orchestrations/access/links.py): the key in the links an HTTP function's starter
hands back opens its own instance's status and steering routes, and nothing else."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone

from orchestrations import services
from orchestrations.access.links import LINK_KEY_SCHEME, LINK_PERMISSIONS, link_key
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Instance
from orchestrations.services.links import instance_created_at
from tests.orchestrations.api.live import PREFIX, LiveApi
from tests.orchestrations.api.test_auth import ROUTES, UNTOUCHED


def key_of(instance_id: str) -> str:
    """The link key a starter of ``instance_id`` hands out now."""
    return link_key(instance_id, instance_created_at(instance_id))


@pytest.fixture
def target(committed_db):
    services.start("wait_for_approval", instance_id="target")
    return "target"


def test_a_link_key_reads_its_instance_in_the_url_as_handed_out_and_in_the_header(live_server, target):
    key = key_of(target)
    assert key.startswith(LINK_KEY_SCHEME)

    in_url = LiveApi(live_server.url, None).status(target, code=key)
    in_header = LiveApi(live_server.url, key).status(target)

    assert (in_url.status, in_url.json["instanceId"]) == (202, target)
    assert (in_header.status, in_header.json["instanceId"]) == (202, target)


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES)
def test_on_every_route_a_link_key_does_only_what_links_offer_on_its_own_instance(
    live_server, target, method, path, permission
):
    reply = LiveApi(live_server.url, key_of(target)).call(method, path, headers={"Content-Type": "application/json"})

    if "/instances/target" not in path:
        # Lists, entities and starts under another id: the key opens no such route.
        assert reply.status == 401
        assert "opens only the instance" in reply.json["Message"]
    elif permission in LINK_PERMISSIONS:
        # Let through; the route answers as it would an API key (a Pending instance cannot be
        # rewound: 412).
        assert reply.status not in (401, 403), reply.json
    else:
        # Purge and restart need an API key.
        assert reply.status == 403
        assert permission in reply.json["Message"]
        assert services.get(target).runtime_status in UNTOUCHED


def test_a_link_key_does_not_open_another_instance(live_server, target):
    services.start("wait_for_approval", instance_id="other")
    api = LiveApi(live_server.url, key_of("other"))

    assert api.status(target).status == 401
    assert api.command(target, "terminate").status == 401
    assert services.get(target).runtime_status in UNTOUCHED
    assert api.status("other").status == 202


def test_a_forged_or_altered_link_key_is_401(live_server, target):
    genuine = key_of(target)

    for forged in (LINK_KEY_SCHEME, LINK_KEY_SCHEME + "A" * 43, genuine[:-2] + "AA", genuine + "A"):
        reply = LiveApi(live_server.url, forged).status(target)
        assert reply.status == 401, forged


def test_steering_through_a_link_is_audited_as_the_link_s_holder(live_server, target):
    reply = LiveApi(live_server.url, None).command(target, "terminate", reason="not needed", code=key_of(target))

    assert reply.status == 202
    entry = AuditLogEntry.objects.get(action="terminate", target_id=target)
    assert (entry.actor, entry.source, entry.reason) == ("link:target", "api", "not needed")


def test_read_only_mode_holds_for_link_keys(live_server, target):
    api = LiveApi(live_server.url, key_of(target))

    with override_settings(PERDURA_READ_ONLY=True):
        refused = api.command(target, "terminate")
        read = api.status(target)

    assert refused.status == 403
    assert "read-only" in refused.json["Message"]
    assert read.status == 202
    assert services.get(target).runtime_status in UNTOUCHED


def test_links_survive_a_secret_key_rotation_while_the_old_key_is_a_fallback(live_server, target, settings):
    old_link = key_of(target)

    with override_settings(SECRET_KEY="a-new-secret-" + "x" * 40, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert LiveApi(live_server.url, old_link).status(target).status == 202
    with override_settings(SECRET_KEY="a-new-secret-" + "x" * 40, SECRET_KEY_FALLBACKS=[]):
        assert LiveApi(live_server.url, old_link).status(target).status == 401


def test_a_link_key_in_the_official_client_s_base_url_opens_its_instance_only(live_server, target):
    api = LiveApi(live_server.url, None)

    assert api.get(f"{PREFIX}/sdk/{key_of(target)}/instances/{target}").status == 202
    assert api.get(f"{PREFIX}/sdk/{key_of(target)}/instances").status == 401


def test_a_link_does_not_open_a_later_instance_started_under_the_same_id(live_server, target):
    old_link = key_of(target)
    Instance.objects.filter(pk=target).update(runtime_status="Terminated", completed_at=timezone.now())
    services.purge(target)
    services.start("wait_for_approval", instance_id=target)

    assert LiveApi(live_server.url, old_link).status(target).status == 401
    assert LiveApi(live_server.url, key_of(target)).status(target).status == 202


def test_a_durable_client_puts_a_link_key_only_in_the_links_of_instances_it_started(committed_db):
    from asgiref.sync import async_to_sync

    from functions.services.durable_client import DurableClient

    services.start("wait_for_approval", instance_id="someone-elses")
    client = DurableClient("status_page")

    foreign = client.create_http_management_payload("someone-elses")
    mine = async_to_sync(client.start_new)("wait_for_approval", "mine")

    assert "code=" not in foreign["statusQueryGetUri"]
    assert client.create_http_management_payload(mine)["statusQueryGetUri"].endswith(f"?code={key_of(mine)}")


def test_the_azure_sdk_client_puts_a_link_key_only_in_the_links_of_instances_it_started(committed_db):
    from asgiref.sync import async_to_sync
    from azure.durable_functions import DurableOrchestrationClient

    from orchestrations.api.inprocess import client_binding

    services.start("wait_for_approval", instance_id="someone-elses")
    client = DurableOrchestrationClient(client_binding("az_status_page"))

    foreign = client.create_http_management_payload("someone-elses")
    mine = async_to_sync(client.start_new)("wait_for_approval", "mine")

    assert "code=" not in foreign["statusQueryGetUri"]
    assert client.create_http_management_payload(mine)["statusQueryGetUri"].endswith(f"?code={key_of(mine)}")
