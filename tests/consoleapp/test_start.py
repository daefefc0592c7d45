"""The start form: a GET shows it, a POST starts the orchestration as the user."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db
URL = reverse("start")


def test_the_form_offers_the_registered_orchestrators(operator):
    response = operator.get(reverse("start-form"))

    assert response.status_code == 200
    assert '<option value="echo_orchestrator"' in response.content.decode()


def test_the_form_is_for_operators(viewer):
    assert viewer.get(reverse("start-form")).status_code == 403


def test_starting_refuses_get(operator):
    assert operator.get(URL).status_code == 405


def test_starting_sends_anonymous_users_to_log_in(client):
    response = client.post(URL, {"name": "echo_orchestrator"})

    assert response["Location"].startswith(reverse("login"))
    assert not Instance.objects.exists()


def test_starting_requires_the_operator_role(viewer):
    response = viewer.post(URL, {"name": "echo_orchestrator"})

    assert response.status_code == 403
    assert not Instance.objects.exists()


def test_starting_with_an_id_and_json_input_opens_the_new_instance(operator):
    response = operator.post(URL, {"name": "echo_orchestrator", "instance_id": "mine-1", "input": '{"a": [1, 2]}'})

    assert response["Location"] == reverse("instance", args=["mine-1"])
    instance = Instance.objects.get(pk="mine-1")
    assert (instance.name, json.loads(instance.input)) == ("echo_orchestrator", {"a": [1, 2]})
    entry = AuditLogEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id) == ("operator", "start", "mine-1")


def test_starting_without_an_id_makes_one_up(operator):
    operator.post(URL, {"name": "echo_orchestrator"})

    assert Instance.objects.get().instance_id


def test_input_that_is_not_json_shows_the_form_again_with_the_error(operator):
    response = operator.post(URL, {"name": "echo_orchestrator", "input": "{'single': 'quotes'}"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "the input is not valid JSON" in page
    assert "{&#x27;single&#x27;: &#x27;quotes&#x27;}" in page  # What was typed stays, escaped.
    assert not Instance.objects.exists()


def test_an_unknown_orchestrator_is_refused(operator):
    response = operator.post(URL, {"name": "no_such_orchestrator"})

    assert response.status_code == 400
    assert "no orchestrator named" in response.content.decode()


@pytest.mark.parametrize("depth", [65, 100_000])
def test_input_nested_too_deeply_is_refused_with_a_message(operator, depth):
    response = operator.post(URL, {"name": "echo_orchestrator", "input": "[" * depth + "]" * depth})

    assert response.status_code == 400
    assert "the input is nested too deeply (at most 64 levels)" in response.content.decode()
    assert not Instance.objects.exists()


def test_input_nested_64_deep_is_accepted(operator):
    response = operator.post(URL, {"name": "echo_orchestrator", "instance_id": "deep", "input": "[" * 64 + "]" * 64})

    assert response["Location"] == reverse("instance", args=["deep"])


def test_an_operator_may_not_start_over_a_finished_instance(operator):
    completed = operator.post(URL, {"name": "echo_orchestrator", "instance_id": "taken", "input": "1"})
    assert completed.status_code == 302
    drain_all()

    response = operator.post(URL, {"name": "echo_orchestrator", "instance_id": "taken", "input": "2"})

    assert response.status_code == 403
    assert "needs the purge permission" in response.content.decode()
    assert json.loads(Instance.objects.get(pk="taken").output) == 1


def test_an_admin_may_start_over_a_finished_instance_and_it_is_audited_as_a_replacement(admin):
    admin.post(URL, {"name": "echo_orchestrator", "instance_id": "taken", "input": "1"})
    drain_all()

    response = admin.post(URL, {"name": "echo_orchestrator", "instance_id": "taken", "input": "2"})

    assert response["Location"] == reverse("instance", args=["taken"])
    entry = AuditLogEntry.objects.get(action="replace")
    assert (entry.actor, entry.details) == ("admin", {"name": "echo_orchestrator", "replaced_status": "Completed"})
