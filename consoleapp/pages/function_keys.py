"""Function keys: keys for HTTP functions of auth level ``function``, for one function or every
one (host keys); created and shown once, listed, revoked. Managed by whoever manages API keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import live_url, require_permission
from functions.registry import FunctionKind, registry
from functions.services import keys
from orchestrations.access.audit import Actor

PERMISSION = "manage_api_keys"


@login_required
@require_GET
def function_keys(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, PERMISSION)
    return render(request, "functions/function_keys.html", _context())


def _context(**extra) -> dict:
    return {
        "keys": keys.list_keys(include_revoked=True),
        "http_functions": registry.names(FunctionKind.HTTP),
        "nav": "api-keys",
        "live_url": live_url("nav"),
        **extra,
    }


@require_POST
@login_required
def create_function_key(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, PERMISSION)
    form = forms.FunctionKeyForm(request.POST)
    form.is_valid()  # Two optional texts: the key's rules are keys.create's, with its messages.
    try:
        key, plain_key = keys.create(
            form.cleaned_data.get("name", ""),
            form.cleaned_data.get("function_name", ""),
            actor=Actor.for_user(request.user),
        )
    except keys.FunctionKeyError as error:
        messages.error(request, str(error))
        return redirect("function-keys")
    # The plain key is shown on this response only: it is not stored and not put in a redirect.
    return render(request, "functions/function_keys.html", _context(new_key=key, plain_key=plain_key))


@require_POST
@login_required
def revoke_function_key(request: HttpRequest, prefix: str) -> HttpResponse:
    require_permission(request.user, PERMISSION)
    try:
        keys.revoke(prefix, actor=Actor.for_user(request.user))
        messages.success(request, f"Revoked the function key {prefix}.")
    except keys.FunctionKeyError as error:
        messages.error(request, str(error))
    return redirect("function-keys")
