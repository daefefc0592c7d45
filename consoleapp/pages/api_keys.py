"""API keys: created with a role, shown once, revoked."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import live_url, require_permission
from orchestrations.access import apikeys, roles
from orchestrations.access.audit import Actor


@login_required
@require_GET
def api_keys(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_api_keys")
    return render(request, "console/api_keys.html", _api_keys_context())


def _api_keys_context(**extra) -> dict:
    return {
        "keys": apikeys.list_keys(include_revoked=True),
        "roles": roles.ROLES,
        "nav": "api-keys",
        "live_url": live_url("nav"),
        **extra,
    }


@require_POST
@login_required
def create_api_key(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_api_keys")
    form = forms.ApiKeyForm(request.POST)
    form.is_valid()  # Two optional texts: the key's rules are apikeys.create's, with its messages.
    try:
        api_key, plain_key = apikeys.create(
            form.cleaned_data.get("name", ""), form.cleaned_data.get("role", ""), actor=Actor.for_user(request.user)
        )
    except apikeys.ApiKeyError as error:
        messages.error(request, str(error))
        return redirect("api-keys")
    # The plain key is shown on this response only: it is not stored and not put in a redirect.
    return render(request, "console/api_keys.html", _api_keys_context(new_key=api_key, plain_key=plain_key))


@require_POST
@login_required
def revoke_api_key(request: HttpRequest, prefix: str) -> HttpResponse:
    require_permission(request.user, "manage_api_keys")
    try:
        apikeys.revoke(prefix, actor=Actor.for_user(request.user))
        messages.success(request, f"Revoked the API key {prefix}.")
    except apikeys.ApiKeyError as error:
        messages.error(request, str(error))
    return redirect("api-keys")
