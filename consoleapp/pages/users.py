"""Users and their roles."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import live_url, require_permission
from orchestrations.access import audit, roles
from orchestrations.access.audit import Actor


@login_required
@require_GET
def users(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_users")
    people = get_user_model().objects.prefetch_related("groups").order_by("username")
    context = {
        "people": [(person, {group.name for group in person.groups.all()}) for person in people],
        "roles": roles.ROLES,
        "nav": "users",
        "live_url": live_url("nav"),
    }
    return render(request, "console/users.html", context)


@require_POST
@login_required
def create_user(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "manage_users")
    form = forms.NewUserForm(request.POST)
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
        return redirect("users")
    username, chosen = form.cleaned_data["username"], form.cleaned_data["roles"]
    with transaction.atomic():
        person = get_user_model().objects.create_user(username=username, password=form.cleaned_data["password"])
        person.groups.set(Group.objects.filter(name__in=chosen))
        audit.record(Actor.for_user(request.user), "create_user", "user", username, details={"roles": chosen})
    messages.success(request, f"Created {username} ({', '.join(chosen) or 'no role'}).")
    return redirect("users")


@require_POST
@login_required
def set_user_roles(request: HttpRequest, user_id: int) -> HttpResponse:
    require_permission(request.user, "manage_users")
    person = get_object_or_404(get_user_model(), pk=user_id)
    form = forms.RolesForm(request.POST)
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
        return redirect("users")
    chosen = form.cleaned_data["roles"]
    with transaction.atomic():
        kept = list(person.groups.exclude(name__in=roles.ROLES))  # Assignee groups stay as they are.
        person.groups.set([*kept, *Group.objects.filter(name__in=chosen)])
        audit.record(
            Actor.for_user(request.user), "set_roles", "user", person.get_username(), details={"roles": chosen}
        )
    messages.success(request, f"{person.get_username()} now has the roles: {', '.join(chosen) or 'none'}.")
    return redirect("users")
