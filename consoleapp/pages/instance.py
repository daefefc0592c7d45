"""One instance: its status, data, what it waits for, timeline and history, with downloads and
the actions on it (raise event, suspend, resume, terminate, rewind, restart, purge).

Its live regions are template partials rendered three ways from one template: in the full
page, as an htmx response, and pushed by the websocket consumer (``render_instance_live``)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import json_download, live_url, require_permission
from consoleapp.templatetags.console import dom_id
from orchestrations import services
from orchestrations.access import roles
from orchestrations.access.audit import Actor
from orchestrations.engine.status import allows
from orchestrations.models import HistoryRow, Instance, SetAsideMessage
from orchestrations.services import approvals, inspection
from orchestrations.worker.failures import MAX_FAILED_ATTEMPTS

HISTORY_PAGE_SIZE = 100
#: A page left open on a busy instance keeps at most this many live history rows.
LIVE_HISTORY_LIMIT = 500
#: The most recent set-aside messages an instance or entity page lists.
SET_ASIDE_SHOWN = 20


def _get_instance_for_user(request: HttpRequest, instance_id: str, codename: str = "view_console") -> Instance:
    """The instance, if the user may do ``codename`` (403 otherwise) and it exists (404)."""
    require_permission(request.user, codename)
    instance = Instance.objects.filter(pk=instance_id).first()
    if instance is None:
        raise Http404(f"no instance with id {instance_id!r}")
    return instance


@login_required
@require_GET
def instance_detail(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    context = instance_context(instance, request.user)
    return render(request, "orchestrations/instance.html", context)


def instance_context(instance: Instance, user, *, since: int | None = None, execution_id: str | None = None) -> dict:
    """Everything the instance page shows. The history shows the newest events; ``since`` (for
    live pushes) keeps every event from that sequence number on, so that rows pushed while the
    page is open join the ones it loaded."""
    history_rows = HistoryRow.objects.filter(instance_id=instance.pk)
    reset = execution_id is not None and execution_id != instance.execution_id
    if since is None or reset:
        latest = list(history_rows.order_by("-sequence")[:HISTORY_PAGE_SIZE])
    else:
        latest = list(history_rows.filter(sequence__gte=since).order_by("-sequence")[:LIVE_HISTORY_LIMIT])
    oldest_shown = latest[-1].sequence if latest else 0
    # The timeline needs no payloads; replaying for "waiting for" (unfinished instances only) does.
    ordered = history_rows.order_by("sequence")
    all_rows = list(ordered.defer("data") if instance.is_terminal else ordered)
    waiting = inspection.waiting_for(instance, all_rows)
    children = Instance.objects.filter(parent_instance_id=instance.pk).order_by("created_at", "instance_id")
    key = dom_id(instance.pk)
    return {
        "instance": instance,
        "key": key,
        "history": latest,
        "history_since": oldest_shown,
        "history_reset": reset,
        "older_history_before": oldest_shown if oldest_shown > 0 and (since is None or reset) else None,
        "history_page_size": HISTORY_PAGE_SIZE,
        "timeline": inspection.timeline(instance, all_rows),
        "waiting": waiting,
        "decidable": {approval.pk for approval in waiting.approvals if approvals.can_decide(user, approval)},
        "children": list(children[:50]),
        "set_aside": list(SetAsideMessage.objects.filter(instance_id=instance.pk).order_by("-pk")[:SET_ASIDE_SHOWN]),
        "max_failed_attempts": MAX_FAILED_ATTEMPTS,
        "children_count": children.count(),
        "failure_text": json.dumps(instance.failure, ensure_ascii=False) if instance.failure else None,
        "actions": (actions := _available_actions(instance, may := _permitted_actions(user))),
        "has_actions": any(actions.values()),
        "may": may,
        "live_url": live_url(
            "instance", [("id", instance.pk), ("since", str(oldest_shown)), ("execution", instance.execution_id)]
        ),
        "nav": "orchestrations",
    }


def _available_actions(instance: Instance, permitted: dict[str, bool]) -> dict[str, bool]:
    """The commands the page offers now: those the role allows that apply to the status."""
    return {command: allowed and allows(instance.runtime_status, command) for command, allowed in permitted.items()}


def _permitted_actions(user) -> dict[str, bool]:
    """The commands the user's role allows whatever the status: their dialogs are on the page
    from the start, so that a button a live push shows has its dialog."""
    return {command: roles.can(user, codename) for command, codename in roles.COMMAND_PERMISSIONS.items()}


LIVE_INSTANCE_SECTIONS = (
    "instance-header",
    "instance-data",
    "instance-waiting",
    "instance-related",
    "instance-timeline",
)


def render_instance_live(
    instance_id: str, user, csrf_token: str | None, *, since: int, execution_id: str
) -> tuple[list[str], set[str]]:
    """The instance page's live regions as websocket frames of out-of-band swaps (the history's
    table bodies in a frame of their own: HTML parsing drops a ``<tbody>`` that follows a
    ``<section>``), and the ids of its children, whose changes show on this page too. A purged
    instance says so in its header."""
    instance = Instance.objects.filter(pk=instance_id).first()
    if instance is None:
        html = render_to_string("orchestrations/instance.html#instance-gone", {"key": dom_id(instance_id), "oob": True})
        return [html], set()
    context = {
        **instance_context(instance, user, since=since, execution_id=execution_id),
        "user": user,
        "csrf_token": csrf_token,
        "oob": True,
    }
    sections = "".join(
        render_to_string(f"orchestrations/instance.html#{name}", context) for name in LIVE_INSTANCE_SECTIONS
    )
    history = render_to_string("orchestrations/instance.html#history-live", context)
    if context["history_reset"]:
        history += render_to_string("orchestrations/instance.html#history-older", context)
    return [sections, history], {child.pk for child in context["children"]}


@login_required
@require_GET
def instance_history(request: HttpRequest, instance_id: str) -> HttpResponse:
    """An older page of the history, for the "older events" button (keyset paged on sequence)."""
    instance = _get_instance_for_user(request, instance_id)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        return HttpResponseBadRequest("before must be a sequence number")
    rows = list(
        HistoryRow.objects.filter(instance_id=instance.pk, sequence__lt=before).order_by("-sequence")[
            :HISTORY_PAGE_SIZE
        ]
    )
    context = {
        "instance": instance,
        "key": dom_id(instance.pk),
        "rows": rows,
        "older_history_before": rows[-1].sequence if rows and rows[-1].sequence > 0 else None,
    }
    return render(request, "orchestrations/instance.html#history-page", context)


@login_required
@require_GET
def history_event(request: HttpRequest, instance_id: str, event_id: int) -> HttpResponse:
    """One history event in full: its payload and details, loaded when a row is opened. By
    row id rather than sequence number, which a rewind renumbers."""
    instance = _get_instance_for_user(request, instance_id)
    event = HistoryRow.objects.filter(instance_id=instance.pk, pk=event_id).first()
    if event is None:
        raise Http404("no such history event")
    return render(request, "orchestrations/instance.html#history-event", {"event": event, "instance": instance})


DOWNLOADS = {
    "input": lambda instance: instance.input,
    "output": lambda instance: instance.output,
    "custom-status": lambda instance: instance.custom_status,
    "failure": lambda instance: json.dumps(instance.failure) if instance.failure else None,
}


@login_required
@require_GET
def instance_download(request: HttpRequest, instance_id: str, part: str) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id)
    if part not in DOWNLOADS:
        raise Http404("nothing to download by that name")
    return json_download(DOWNLOADS[part](instance), f"{instance.pk}-{part}.json")


EVENT_DOWNLOADS = {
    "data": lambda event: event.data,
    "details": lambda event: json.dumps(event.details, ensure_ascii=False) if event.details else None,
}


@login_required
@require_GET
def history_event_download(request: HttpRequest, instance_id: str, event_id: int, part: str) -> HttpResponse:
    """One history event's payload or details, whole, for the page that shows them cut."""
    instance = _get_instance_for_user(request, instance_id)
    event = HistoryRow.objects.filter(instance_id=instance.pk, pk=event_id).first()
    if event is None or part not in EVENT_DOWNLOADS:
        raise Http404("no such history event")
    return json_download(EVENT_DOWNLOADS[part](event), f"{instance.pk}-event-{event.sequence}-{part}.json")


# Actions on one instance. Each checks the role, runs the service with the user as the actor
# (the service writes the audit entry), and goes back to the page with what happened.


def _act(request: HttpRequest, instance: Instance, run: Callable[[Actor], str], *, then: str | None = None):
    try:
        done = run(Actor.for_user(request.user))
    except services.OrchestrationError as error:
        messages.error(request, str(error))
        return redirect("instance", instance.pk)
    messages.success(request, done)
    return redirect(then or reverse("instance", args=[instance.pk]))


def _refused(request: HttpRequest, instance: Instance, form: forms.Form) -> HttpResponse:
    messages.error(request, forms.first_error(form))
    return redirect("instance", instance.pk)


@require_POST
@login_required
def raise_event(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id, "raise_event")
    form = forms.RaiseEventForm(request.POST)
    if not form.is_valid():
        return _refused(request, instance, form)
    event_name = form.cleaned_data["event_name"]

    def run(actor: Actor) -> str:
        services.raise_event(instance.pk, event_name, form.cleaned_data["data"], reason=form.reason_given, actor=actor)
        return f"Raised {event_name!r}."

    return _act(request, instance, run)


def _control_view(codename: str, command: Callable[..., None], done: str) -> Callable[..., HttpResponse]:
    """A view that sends one control command (with the reason given) to an instance."""

    @require_POST
    @login_required
    def view(request: HttpRequest, instance_id: str) -> HttpResponse:
        instance = _get_instance_for_user(request, instance_id, codename)
        form = forms.ReasonForm(request.POST)
        if not form.is_valid():
            return _refused(request, instance, form)

        def run(actor: Actor) -> str:
            command(instance.pk, form.reason_given, actor=actor)
            return done

        return _act(request, instance, run)

    return view


terminate = _control_view("terminate_instance", services.terminate, "Termination requested.")
suspend = _control_view("suspend_instance", services.suspend, "Suspension requested.")
resume = _control_view("resume_instance", services.resume, "Resumption requested.")
rewind = _control_view("rewind_instance", services.rewind, "Rewound: the failed calls run again.")


@require_POST
@login_required
def restart(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id, "restart_instance")
    form = forms.RestartForm(request.POST)
    if not form.is_valid():
        return _refused(request, instance, form)
    new_id = form.cleaned_data["new_instance_id"]
    try:
        restarted = services.restart(
            instance.pk, new_instance_id=new_id, reason=form.reason_given, actor=Actor.for_user(request.user)
        )
    except services.OrchestrationError as error:
        messages.error(request, str(error))
        return redirect("instance", instance.pk)
    messages.success(request, "Restarted with a new id." if new_id else "Restarted.")
    return redirect("instance", restarted)


@require_POST
@login_required
def purge(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id, "purge_instance")
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, instance, form)

    def run(actor: Actor) -> str:
        services.purge(instance.pk, reason=form.reason_given, actor=actor)
        return f"Purged {instance.pk}."

    return _act(request, instance, run, then=reverse("instances"))
