"""The console's forms: every POST is read through one of these, which owns its fields' parsing
and their errors. What a value means for the engine (an event name's length, whether an
instance may be replaced) is still the services' to say; a form checks what a form can: a
choice among the allowed ones, JSON that parses, a number that is a number."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from orchestrations import services
from orchestrations.access import roles

ROLE_CHOICES = [(role, role) for role in roles.ROLES]


class JsonTextField(forms.CharField):
    """JSON text typed by a person, read by the services' strict parser; empty is null."""

    def __init__(self, *, what: str, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.what = what

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        try:
            return services.parse_json(text or "null", self.what)
        except services.BadInputError as error:
            raise ValidationError(str(error)) from None


class TextListField(forms.Field):
    """Every value of a repeated field (ticked checkboxes), in order, without repeats."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        return list(dict.fromkeys(str(item) for item in value or []))


def first_error(form: forms.Form) -> str:
    """The first error of a form, as one sentence for a message on the page."""
    return next(message for errors in form.errors.values() for message in errors)


class ReasonForm(forms.Form):
    """A command on an instance, with why (kept in history and the audit log)."""

    reason = forms.CharField(required=False)

    @property
    def reason_given(self) -> str | None:
        return self.cleaned_data["reason"] or None


class TimerActionForm(ReasonForm):
    """Pause, resume or run a timer schedule now, with why (kept in the audit log)."""


class RaiseEventForm(ReasonForm):
    event_name = forms.CharField(required=False)
    data = JsonTextField(what="the event data")


class RestartForm(ReasonForm):
    new_instance_id = forms.BooleanField(required=False)


class StartForm(forms.Form):
    name = forms.CharField(required=False)
    instance_id = forms.CharField(required=False)
    version = forms.CharField(required=False)
    input = JsonTextField(what="the input")


class BulkActionForm(forms.Form):
    action = forms.CharField(required=False)
    scope = forms.ChoiceField(choices=[("selected", "selected"), ("filtered", "filtered")], required=False)
    filter = forms.CharField(required=False, strip=False)
    instance_ids = TextListField(required=False)
    confirmed_count = forms.IntegerField(required=False, min_value=0)
    reason = forms.CharField(required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "approve"), ("reject", "reject")],
        error_messages={
            "required": "decision must be approve or reject",
            "invalid_choice": "decision must be approve or reject",
        },
    )
    comment = forms.CharField(required=False)
    next = forms.CharField(required=False, strip=False)


class SignalForm(forms.Form):
    name = forms.CharField(required=False)
    #: A key may hold any character, spaces at either end too.
    key = forms.CharField(required=False, strip=False)
    operation = forms.CharField(required=False)
    input = JsonTextField(what="the operation input")
    back = forms.CharField(required=False)


class ApiKeyForm(forms.Form):
    name = forms.CharField(required=False)
    role = forms.CharField(required=False)


class FunctionKeyForm(forms.Form):
    name = forms.CharField(required=False)
    #: Blank for a host key.
    function_name = forms.CharField(required=False)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES,
        required=False,
        error_messages={"invalid_choice": "%(value)s is not a role; the roles are " + ", ".join(roles.ROLES)},
    )


class NewUserForm(RolesForm):
    username = forms.CharField(error_messages={"required": "A user needs a username."})
    password = forms.CharField(strip=False, required=False)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        users = get_user_model()
        # The model's own rules (length, characters), with its own messages.
        users._meta.get_field(users.USERNAME_FIELD).run_validators(username)
        if users.objects.filter(username=username).exists():
            raise ValidationError(f"There is already a user called {username}.")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "username" in cleaned:
            try:
                validate_password(cleaned.get("password", ""), get_user_model()(username=cleaned["username"]))
            except ValidationError as error:
                raise ValidationError(" ".join(error.messages)) from None
        return cleaned


class RunFunctionForm(forms.Form):
    """A function run by hand: its input, as JSON (empty is null)."""

    input = JsonTextField(what="the input")


class QueueMessageForm(forms.Form):
    """A message to put on a queue: text as typed, or (``as_json``) a JSON value."""

    queue = forms.CharField(error_messages={"required": "name the queue"})
    #: Kept as typed: a message's spaces are its own.
    message = forms.CharField(strip=False, error_messages={"required": "the message is empty"})
    as_json = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("as_json") and "message" in cleaned:
            try:
                cleaned["message"] = services.parse_json(cleaned["message"], "the message")
            except services.BadInputError as error:
                self.add_error("message", str(error))
        return cleaned


class QueueCommandForm(ReasonForm):
    """Requeue a queue's poison messages or purge it, with why (kept in the audit log)."""
