"""The entity pages: the list, one entity, and the signal and delete forms."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from entities import services as entity_services
from entities.models import Entity
from orchestrations.access.models import AuditLogEntry
from orchestrations.engine import EntityId
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db
SIGNAL = reverse("signal-entity")


@pytest.fixture
def counter():
    entity_services.signal(EntityId("counter", "home-page"), "add", 5)
    drain_all()
    return Entity.objects.get(pk="@counter@home-page")


def test_the_list_shows_each_entity_with_its_state(counter, viewer):
    page = viewer.get(reverse("entities")).content.decode()

    assert "home-page" in page
    assert reverse("entity", args=["@counter@home-page"]) in page
    assert ">5<" in page


def test_the_list_filters_by_name(counter, viewer):
    page = viewer.get(reverse("entities"), {"name": "account"}).content.decode()

    assert "home-page" not in page


def test_an_entity_page_shows_its_state_and_lock(counter, viewer):
    response = viewer.get(reverse("entity", args=["@counter@home-page"]))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<span class="j-number">5</span>' in page
    assert "Lock holder" in page


def test_an_entity_key_may_hold_slashes(viewer):
    entity_services.signal(EntityId("counter", "a/b c"), "add", 1)
    drain_all()

    response = viewer.get(reverse("entity", args=["@counter@a/b c"]))

    assert response.status_code == 200


def test_an_unknown_entity_is_not_found(viewer):
    assert viewer.get(reverse("entity", args=["@counter@nope"])).status_code == 404


def test_signalling_refuses_get(operator):
    assert operator.get(SIGNAL).status_code == 405


def test_signalling_sends_anonymous_users_to_log_in(client):
    response = client.post(SIGNAL, {"name": "counter", "key": "k", "operation": "add", "input": "1"})

    assert response["Location"].startswith(reverse("login"))
    drain_all()
    assert not Entity.objects.exists()


def test_signalling_requires_the_operator_role(viewer):
    response = viewer.post(SIGNAL, {"name": "counter", "key": "k", "operation": "add", "input": "1"})
    drain_all()

    assert response.status_code == 403
    assert not Entity.objects.exists()


def test_a_signal_runs_the_operation_and_opens_the_entity(counter, operator):
    response = operator.post(SIGNAL, {"name": "counter", "key": "home-page", "operation": "add", "input": "3"})
    drain_all()

    assert response["Location"] == reverse("entity", args=["@counter@home-page"])
    assert json.loads(Entity.objects.get(pk="@counter@home-page").state) == 8
    entry = AuditLogEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id) == ("operator", "signal_entity", "@counter@home-page")


def test_a_signal_with_input_that_is_not_json_is_refused(operator):
    response = operator.post(SIGNAL, {"name": "counter", "key": "k", "operation": "add", "input": "one"}, follow=True)
    drain_all()

    assert "the operation input is not valid JSON" in response.content.decode()
    assert not Entity.objects.exists()


def test_a_signal_with_input_nested_too_deeply_is_refused(operator):
    deep = "{" + '"a":{' * 30_000 + "}" * 30_001
    response = operator.post(SIGNAL, {"name": "counter", "key": "k", "operation": "add", "input": deep}, follow=True)
    drain_all()

    assert "the operation input is nested too deeply" in response.content.decode()
    assert not Entity.objects.exists()


def test_deleting_refuses_get(counter, admin):
    assert admin.get(reverse("delete-entity", args=[counter.pk])).status_code == 405


def test_deleting_sends_anonymous_users_to_log_in(counter, client):
    response = client.post(reverse("delete-entity", args=[counter.pk]))

    assert response["Location"].startswith(reverse("login"))
    assert Entity.objects.filter(pk=counter.pk).exists()


def test_deleting_is_for_admins(counter, operator):
    response = operator.post(reverse("delete-entity", args=[counter.pk]))

    assert response.status_code == 403
    assert Entity.objects.filter(pk=counter.pk).exists()


def test_deleting_removes_the_entity(counter, admin):
    response = admin.post(reverse("delete-entity", args=[counter.pk]))

    assert response["Location"] == reverse("entities")
    assert not Entity.objects.exists()
    assert AuditLogEntry.objects.get().action == "delete_entity"
