"""The approvals inbox: every pending approval, those waiting for the user first, and the
decided ones; approve or reject with a comment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import json_download, live_url, require_permission
from orchestrations import services
from orchestrations.access import roles
from orchestrations.access.audit import Actor
from orchestrations.models import Approval, Instance
from orchestrations.services import approvals


@login_required
@require_GET
def approvals_inbox(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {**inbox_context(request.user), "live_url": live_url("inbox"), "nav": "approvals"}
    return render(request, "orchestrations/approvals.html", context)


def inbox_context(user) -> dict:
    """Every approval, for every role that reads: the pending ones the user may decide first,
    with their forms, then the ones waiting for others, to read."""
    pending = list(Approval.objects.filter(status=Approval.Status.PENDING).order_by("requested_at", "pk")[:200])
    decided = list(Approval.objects.exclude(status=Approval.Status.PENDING).order_by("-decided_at", "-pk")[:50])
    names = dict(
        Instance.objects.filter(pk__in={a.instance_id for a in pending + decided}).values_list("instance_id", "name")
    )
    decidable = {approval.pk for approval in pending if approvals.can_decide(user, approval)}
    return {
        "yours": [approval for approval in pending if approval.pk in decidable],
        "others": [approval for approval in pending if approval.pk not in decidable],
        "decided": decided,
        "decidable": decidable,
        "instance_names": names,
        "role_names": sorted(name for name in user.groups.values_list("name", flat=True) if name in roles.ROLES),
        "assignment_groups": roles.assignment_groups(user),
        "may_decide": roles.can(user, "decide_approval"),
        "decides_every_approval": roles.decides_every_approval(user),
        "read_only": roles.is_read_only(),
    }


@login_required
@require_GET
def approval_download(request: HttpRequest, approval_id: int) -> HttpResponse:
    """An approval's details, whole: to every role that reads, as the inbox shows them."""
    require_permission(request.user, "view_console")
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None:
        raise Http404("no such approval")
    return json_download(approval.details, f"approval-{approval.pk}-details.json")


def render_inbox_live(user, csrf_token: str | None) -> str:
    context = {**inbox_context(user), "user": user, "csrf_token": csrf_token, "oob": True}
    return render_to_string("orchestrations/approvals.html#approvals-pending", context) + render_to_string(
        "orchestrations/approvals.html#approvals-decided", context
    )


@require_POST
@login_required
def decide_approval(request: HttpRequest, approval_id: int) -> HttpResponse:
    require_permission(request.user, "decide_approval")
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(forms.first_error(form))
    try:
        approval = approvals.decide(
            approval_id,
            approved=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
            user=request.user,
            actor=Actor.for_user(request.user),
        )
    except services.NotAllowedError as error:
        raise PermissionDenied(str(error)) from None
    except services.InstanceNotFoundError as error:
        raise Http404(str(error)) from None
    except services.InvalidStateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{'Approved' if approval.status == 'approved' else 'Rejected'}: {approval.title}")
    next_url = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("approvals")
    return redirect(next_url)
