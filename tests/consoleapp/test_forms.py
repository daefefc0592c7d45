"""The console's forms: what each takes from a POST and the errors it gives."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict

from consoleapp import forms

pytestmark = pytest.mark.django_db


def test_json_text_is_parsed_and_empty_is_null():
    form = forms.RaiseEventForm({"event_name": "approval", "data": '{"ok": true}'})
    empty = forms.RaiseEventForm({"event_name": "approval", "data": ""})

    assert form.is_valid() and form.cleaned_data["data"] == {"ok": True}
    assert empty.is_valid() and empty.cleaned_data["data"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [("{nope", "the event data is not valid JSON"), ("[" * 70 + "]" * 70, "nested too deeply"), ("NaN", "NaN")],
)
def test_json_that_the_services_would_refuse_is_a_form_error(data, message):
    form = forms.RaiseEventForm({"event_name": "approval", "data": data})

    assert not form.is_valid()
    assert message in forms.first_error(form)


def test_a_reason_left_blank_is_none():
    form = forms.ReasonForm({"reason": "   "})

    assert form.is_valid() and form.reason_given is None


def test_a_decision_must_be_approve_or_reject():
    form = forms.DecisionForm({"decision": "maybe"})

    assert not form.is_valid()
    assert forms.first_error(form) == "decision must be approve or reject"


def test_the_bulk_form_takes_every_ticked_instance_once_and_a_count():
    form = forms.BulkActionForm(
        QueryDict("action=terminate&instance_ids=a&instance_ids=b&instance_ids=a&confirmed_count=2")
    )

    assert form.is_valid()
    assert (form.cleaned_data["instance_ids"], form.cleaned_data["confirmed_count"]) == (["a", "b"], 2)


def test_a_bulk_count_that_is_not_a_number_is_an_error():
    assert not forms.BulkActionForm({"action": "terminate", "confirmed_count": "many"}).is_valid()


def test_roles_must_be_roles():
    form = forms.RolesForm({"roles": ["admin", "superuser"]})

    assert not form.is_valid()
    assert "superuser is not a role" in forms.first_error(form)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "password": "a-long-password-9"}, "A user needs a username."),
        ({"username": "taken", "password": "a-long-password-9"}, "There is already a user called taken."),
        ({"username": "new", "password": "short"}, "too short"),
        ({"username": "bad name!", "password": "a-long-password-9"}, "Enter a valid username"),
        ({"username": "u" * 151, "password": "a-long-password-9"}, "at most 150 characters"),
    ],
)
def test_a_new_user_is_refused_with_the_reason(data, message):
    User.objects.create_user("taken")

    form = forms.NewUserForm(data)

    assert not form.is_valid()
    assert message in forms.first_error(form)
