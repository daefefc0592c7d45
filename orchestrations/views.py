"""Console pages for orchestrations: the instance list with its bulk actions, one instance
(status, data, what it waits for, timeline, history, actions), the start form and the
approvals inbox.

Each page's live regions are template partials rendered three ways from one template: in
the full page, as an htmx response, and pushed by the websocket consumer (``render_*_live``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from consoleapp.templatetags.console import dom_id
from consoleapp.views import json_download, live_url, require_permission
from functions.registry import FunctionKind, registry
from orchestrations import approvals, inspect, services
from orchestrations.access import roles
from orchestrations.access.audit import Actor
from orchestrations.inspect import BadFilterError, InstanceFilter
from orchestrations.models import Approval, HistoryEvent, Instance, SetAsideMessage
from orchestrations.worker.episodes import MAX_FAILED_ATTEMPTS

PAGE_SIZE = 50
COUNT_CAP = 10_000
BULK_LIMIT = 1_000
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


# The instance list.


@login_required
@require_GET
def instance_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = list_context(request.GET)
    if request.htmx:
        return render(request, "orchestrations/list.html#instances-results", {**context, "swap_socket": True})
    return render(request, "orchestrations/list.html", context)


def list_context(query: QueryDict) -> dict:
    instance_filter, errors = InstanceFilter.from_query(query)
    after, before = query.get("after") or None, query.get("before") or None
    try:
        page = inspect.list_instances(instance_filter, page_size=PAGE_SIZE, after=after, before=before)
    except BadFilterError as error:
        errors.append(str(error))
        after = before = None
        page = inspect.list_instances(instance_filter, page_size=PAGE_SIZE)
    filter_params = instance_filter.to_query()
    paging = [("after", after)] if after else [("before", before)] if before else []
    return {
        "filter": instance_filter,
        "errors": errors,
        "instances": page.instances,
        "next_url": _list_url(filter_params, [("after", page.next_token)]) if page.next_token else None,
        "previous_url": _list_url(filter_params, [("before", page.previous_token)]) if page.previous_token else None,
        "first_url": _list_url(filter_params, []) if (after or before) else None,
        "filter_query": urlencode(filter_params),
        "counts": inspect.status_counts(instance_filter, COUNT_CAP),
        "count_cap": COUNT_CAP,
        "sort_urls": {
            key: _list_url(_with_sort(filter_params, _toggled(instance_filter.sort, key)), [])
            for key in ("created", "name", "status", "id")
        },
        "status_urls": {status: _list_url(_only_status(filter_params, status), []) for status in inspect.STATUSES},
        "statuses": inspect.STATUSES,
        "orchestrator_names": registry.names(FunctionKind.ORCHESTRATOR),
        "bulk_actions": BULK_ACTIONS,
        "bulk_limit": BULK_LIMIT,
        "live_url": live_url("list", filter_params + paging),
        "nav": "orchestrations",
    }


def _list_url(filter_params: list[tuple[str, str]], extra: list[tuple[str, str]]) -> str:
    query = urlencode(filter_params + extra)
    return reverse("instances") + (f"?{query}" if query else "")


def _toggled(current: str, column: str) -> str:
    """Clicking a column sorts by it; clicking it again reverses the order. Time sorts newest first."""
    if column == "created":
        return "created" if current == "-created" else "-created"
    return f"-{column}" if current == column else column


def _with_sort(params: list[tuple[str, str]], sort: str) -> list[tuple[str, str]]:
    kept = [(key, value) for key, value in params if key != "sort"]
    return kept + ([("sort", sort)] if sort != inspect.DEFAULT_SORT else [])


def _only_status(params: list[tuple[str, str]], status: str) -> list[tuple[str, str]]:
    return [("status", status)] + [(key, value) for key, value in params if key != "status"]


def render_list_update(
    query: QueryDict, user, csrf_token: str | None, *, shown: list[str] | None, changed: set[str]
) -> tuple[list[str], list[str]]:
    """A live push for the list page (websocket frames of out-of-band swaps), and the ids the
    page shows after it. While the page keeps showing the same instances, only the rows that
    changed are swapped, which keeps the user's selection and scroll position; otherwise the
    whole table is. The counts always are. Table rows travel in a frame of their own: HTML
    parsing drops a ``<tr>`` that follows a ``<div>``."""
    context = {**list_context(query), "user": user, "csrf_token": csrf_token, "oob": True}
    ids = [instance.pk for instance in context["instances"]]
    counts = render_to_string("orchestrations/list.html#status-counts", context)
    if shown is None or ids != shown:
        return [render_to_string("orchestrations/list.html#instances-table", context) + counts], ids
    rows = "".join(
        render_to_string("orchestrations/list.html#instance-row", {**context, "instance": instance})
        for instance in context["instances"]
        if instance.pk in changed
    )
    return [rows, counts], ids


# Bulk actions.


@dataclass(frozen=True)
class BulkAction:
    label: str
    past: str
    codename: str
    run: Callable[[str, str, Actor], object]


BULK_ACTIONS: dict[str, BulkAction] = {
    "terminate": BulkAction(
        "Terminate",
        "Terminated",
        "terminate_instance",
        lambda i, reason, actor: services.terminate(i, reason, actor=actor),
    ),
    "suspend": BulkAction(
        "Suspend", "Suspended", "suspend_instance", lambda i, reason, actor: services.suspend(i, reason, actor=actor)
    ),
    "resume": BulkAction(
        "Resume", "Resumed", "resume_instance", lambda i, reason, actor: services.resume(i, reason, actor=actor)
    ),
    "rewind": BulkAction(
        "Rewind", "Rewound", "rewind_instance", lambda i, reason, actor: services.rewind(i, reason, actor=actor)
    ),
    "restart": BulkAction(
        "Restart",
        "Restarted",
        "restart_instance",
        lambda i, reason, actor: services.restart(i, reason=reason, actor=actor),
    ),
    "purge": BulkAction(
        "Purge", "Purged", "purge_instance", lambda i, reason, actor: services.purge(i, reason=reason, actor=actor)
    ),
}


@require_POST
@login_required
def bulk_action(request: HttpRequest) -> HttpResponse:
    """Act on the selected instances, or on every instance the filter matches. The first post
    answers with a confirmation stating the count; the action runs when that count comes back."""
    require_permission(request.user, "bulk_action")
    action = BULK_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponseBadRequest("choose one of: " + ", ".join(BULK_ACTIONS))
    require_permission(request.user, action.codename)
    filter_query = request.POST.get("filter", "")
    list_url = reverse("instances") + (f"?{filter_query}" if filter_query else "")
    targets = _bulk_targets(request)
    if not targets:
        messages.warning(request, "No instances selected: tick some rows, or choose all matching instances.")
        return redirect(list_url)
    if len(targets) > BULK_LIMIT:
        messages.error(
            request,
            f"The filter matches more than {BULK_LIMIT:,} instances; narrow it, or use the CLI "
            "(`manage.py durable purge`) for mass purges.",
        )
        return redirect(list_url)
    reason = request.POST.get("reason", "").strip()
    if request.POST.get("confirmed_count") != str(len(targets)):
        context = {
            "action": action,
            "action_key": request.POST["action"],
            "targets": targets,
            "preview": targets[:10],
            "scope": request.POST.get("scope", "selected"),
            "filter_query": filter_query,
            "reason": reason,
            "list_url": list_url,
            "changed": bool(request.POST.get("confirmed_count")),
            "live_url": live_url("nav"),
            "nav": "orchestrations",
        }
        template = "orchestrations/bulk_confirm.html"
        return render(request, template + "#bulk-confirm" if request.htmx else template, context)
    actor = Actor.for_user(request.user)
    failures: list[str] = []
    for instance_id in targets:
        try:
            action.run(instance_id, reason or None, actor)
        except services.OrchestrationError as error:
            failures.append(f"{instance_id}: {error}")
    done = len(targets) - len(failures)
    messages.success(request, f"{action.past} {done} of {len(targets)} instance{'s' if len(targets) != 1 else ''}.")
    if failures:
        shown = "; ".join(failures[:5]) + (f"; and {len(failures) - 5} more" if len(failures) > 5 else "")
        messages.warning(request, f"{len(failures)} could not be changed: {shown}")
    return redirect(list_url)


def _bulk_targets(request: HttpRequest) -> list[str]:
    if request.POST.get("scope") == "filtered":
        instance_filter, _ = InstanceFilter.from_query(QueryDict(request.POST.get("filter", "")))
        return list(
            instance_filter.queryset()
            .order_by("-created_at", "instance_id")
            .values_list("instance_id", flat=True)[: BULK_LIMIT + 1]
        )
    selected = list(dict.fromkeys(request.POST.getlist("instance_ids")))
    return list(Instance.objects.filter(pk__in=selected).values_list("instance_id", flat=True))


# One instance.


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
    history_rows = HistoryEvent.objects.filter(instance_id=instance.pk)
    reset = execution_id is not None and execution_id != instance.execution_id
    if since is None or reset:
        latest = list(history_rows.order_by("-sequence")[:HISTORY_PAGE_SIZE])
    else:
        latest = list(history_rows.filter(sequence__gte=since).order_by("-sequence")[:LIVE_HISTORY_LIMIT])
    oldest_shown = latest[-1].sequence if latest else 0
    # The timeline needs no payloads; replaying for "waiting for" (unfinished instances only) does.
    ordered = history_rows.order_by("sequence")
    all_rows = list(ordered.defer("data") if instance.is_terminal else ordered)
    waiting = inspect.waiting_for(instance, all_rows)
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
        "timeline": inspect.timeline(instance, all_rows),
        "waiting": waiting,
        "decidable": {approval.pk for approval in waiting.approvals if approvals.can_decide(user, approval)},
        "children": list(children[:50]),
        "set_aside": list(SetAsideMessage.objects.filter(instance_id=instance.pk).order_by("-pk")[:SET_ASIDE_SHOWN]),
        "max_failed_attempts": MAX_FAILED_ATTEMPTS,
        "children_count": children.count(),
        "failure_text": json.dumps(instance.failure, ensure_ascii=False) if instance.failure else None,
        "actions": (actions := _available_actions(instance, user)),
        "has_actions": any(actions.values()),
        "may": _permitted_actions(user),
        "live_url": live_url(
            "instance", [("id", instance.pk), ("since", str(oldest_shown)), ("execution", instance.execution_id)]
        ),
        "nav": "orchestrations",
    }


def _available_actions(instance: Instance, user) -> dict[str, bool]:
    terminal = instance.is_terminal
    status = instance.runtime_status
    return {
        "raise_event": not terminal and roles.can(user, "raise_event"),
        "suspend": status in ("Running", "Pending") and roles.can(user, "suspend_instance"),
        "resume": status == "Suspended" and roles.can(user, "resume_instance"),
        "terminate": not terminal and roles.can(user, "terminate_instance"),
        "rewind": status == "Failed" and roles.can(user, "rewind_instance"),
        "restart": roles.can(user, "restart_instance"),
        "purge": terminal and roles.can(user, "purge_instance"),
    }


def _permitted_actions(user) -> dict[str, bool]:
    """The actions the user's role allows whatever the status: their dialogs are on the page
    from the start, so that a button a live push shows has its dialog."""
    return {
        "raise_event": roles.can(user, "raise_event"),
        "suspend": roles.can(user, "suspend_instance"),
        "resume": roles.can(user, "resume_instance"),
        "terminate": roles.can(user, "terminate_instance"),
        "rewind": roles.can(user, "rewind_instance"),
        "restart": roles.can(user, "restart_instance"),
        "purge": roles.can(user, "purge_instance"),
    }


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
        HistoryEvent.objects.filter(instance_id=instance.pk, sequence__lt=before).order_by("-sequence")[
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
    event = HistoryEvent.objects.filter(instance_id=instance.pk, pk=event_id).first()
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
    event = HistoryEvent.objects.filter(instance_id=instance.pk, pk=event_id).first()
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


def _reason(request: HttpRequest) -> str | None:
    return request.POST.get("reason", "").strip() or None


@require_POST
@login_required
def raise_event(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _get_instance_for_user(request, instance_id, "raise_event")
    event_name = request.POST.get("event_name", "").strip()

    def run(actor: Actor) -> str:
        data = services.parse_json(request.POST.get("data") or "null", "the event data")
        services.raise_event(instance.pk, event_name, data, reason=_reason(request), actor=actor)
        return f"Raised {event_name!r}."

    return _act(request, instance, run)


def _control_view(codename: str, command: Callable[..., None], done: str) -> Callable[..., HttpResponse]:
    """A view that sends one control command (with the reason given) to an instance."""

    @require_POST
    @login_required
    def view(request: HttpRequest, instance_id: str) -> HttpResponse:
        instance = _get_instance_for_user(request, instance_id, codename)

        def run(actor: Actor) -> str:
            command(instance.pk, _reason(request), actor=actor)
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
    new_id = request.POST.get("new_instance_id") == "on"
    try:
        restarted = services.restart(
            instance.pk, new_instance_id=new_id, reason=_reason(request), actor=Actor.for_user(request.user)
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

    def run(actor: Actor) -> str:
        services.purge(instance.pk, reason=_reason(request), actor=actor)
        return f"Purged {instance.pk}."

    return _act(request, instance, run, then=reverse("instances"))


# Starting an orchestration.


@login_required
@require_GET
def start_form(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "start_instance")
    return render(request, "orchestrations/start.html", _start_context(name=request.GET.get("name", "")))


def _start_context(**values) -> dict:
    return {
        "orchestrator_names": registry.names(FunctionKind.ORCHESTRATOR),
        "values": {"name": "", "instance_id": "", "version": "", "input": "", **values},
        "live_url": live_url("nav"),
        "nav": "orchestrations",
    }


@require_POST
@login_required
def start(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "start_instance")
    values = {key: request.POST.get(key, "").strip() for key in ("name", "instance_id", "version", "input")}
    try:
        payload = services.parse_json(values["input"] or "null", "the input")
        instance_id = services.start(
            values["name"],
            payload,
            instance_id=values["instance_id"] or None,
            version=values["version"],
            actor=Actor.for_user(request.user),
        )
    except services.OrchestrationError as error:
        status = 403 if isinstance(error, services.NotAllowedError) else 400
        return render(
            request, "orchestrations/start.html", {**_start_context(**values), "error": str(error)}, status=status
        )
    messages.success(request, f"Started {values['name']}.")
    return redirect("instance", instance_id)


# The approvals inbox.


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
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        return HttpResponseBadRequest("decision must be approve or reject")
    try:
        approval = approvals.decide(
            approval_id,
            approved=decision == "approve",
            comment=request.POST.get("comment", "").strip(),
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
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("approvals")
    return redirect(next_url)
