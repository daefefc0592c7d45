"""The instance list: filters, sorts, keyset pages, counts by status, and bulk actions on the
selected instances or on all that match the filter.

Its live regions are template partials rendered three ways from one template: in the full
page, as an htmx response, and pushed by the websocket consumer (``render_list_update``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import live_url, require_permission
from functions.registry import FunctionKind, registry
from orchestrations import services
from orchestrations.access.audit import Actor
from orchestrations.models import Instance
from orchestrations.services import inspection
from orchestrations.services.inspection import BadFilterError, InstanceFilter

PAGE_SIZE = 50
COUNT_CAP = 10_000
BULK_LIMIT = 1_000


@login_required
@require_GET
def instance_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = list_context(request.GET)
    if request.htmx:
        return render(request, "orchestrations/list.html#instances-results", {**context, "swap_socket": True})
    return render(request, "orchestrations/list.html", context)


def retention_rules() -> list[tuple[str, str]]:
    """PERDURA_RETENTION as people read it: (status, "30 days")."""
    return [(status, _age(seconds)) for status, seconds in settings.PERDURA_RETENTION.items()]


def _age(seconds: float) -> str:
    """In the largest unit that counts it whole: 2592000 -> "30 days", 5400 -> "90 minutes"."""
    unit, size = next(
        (unit, size)
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
        if size == 1 or seconds % size == 0
    )
    count = seconds / size
    return f"{count:g} {unit}{'' if count == 1 else 's'}"


def list_context(query: QueryDict) -> dict:
    instance_filter, errors = InstanceFilter.from_query(query)
    after, before = query.get("after") or None, query.get("before") or None
    try:
        page = inspection.list_instances(instance_filter, page_size=PAGE_SIZE, after=after, before=before)
    except BadFilterError as error:
        errors.append(str(error))
        after = before = None
        page = inspection.list_instances(instance_filter, page_size=PAGE_SIZE)
    filter_params = instance_filter.to_query()
    paging = [("after", after)] if after else [("before", before)] if before else []
    return {
        "retention": retention_rules(),
        "filter": instance_filter,
        "errors": errors,
        "instances": page.instances,
        "next_url": _list_url(filter_params, [("after", page.next_token)]) if page.next_token else None,
        "previous_url": _list_url(filter_params, [("before", page.previous_token)]) if page.previous_token else None,
        "first_url": _list_url(filter_params, []) if (after or before) else None,
        "filter_query": urlencode(filter_params),
        "counts": inspection.status_counts(instance_filter, COUNT_CAP),
        "count_cap": COUNT_CAP,
        "sort_urls": {
            key: _list_url(_with_sort(filter_params, _toggled(instance_filter.sort, key)), [])
            for key in ("created", "name", "status", "id")
        },
        "status_urls": {status: _list_url(_only_status(filter_params, status), []) for status in inspection.STATUSES},
        "statuses": inspection.STATUSES,
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
    return kept + ([("sort", sort)] if sort != inspection.DEFAULT_SORT else [])


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
    form = forms.BulkActionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(forms.first_error(form))
    action_key = form.cleaned_data["action"]
    action = BULK_ACTIONS.get(action_key)
    if action is None:
        return HttpResponseBadRequest("choose one of: " + ", ".join(BULK_ACTIONS))
    require_permission(request.user, action.codename)
    filter_query = form.cleaned_data["filter"]
    list_url = reverse("instances") + (f"?{filter_query}" if filter_query else "")
    targets = _bulk_targets(form)
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
    reason = form.cleaned_data["reason"]
    confirmed_count = form.cleaned_data["confirmed_count"]
    if confirmed_count != len(targets):
        context = {
            "action": action,
            "action_key": action_key,
            "targets": targets,
            "preview": targets[:10],
            "scope": form.cleaned_data["scope"] or "selected",
            "filter_query": filter_query,
            "reason": reason,
            "list_url": list_url,
            "changed": confirmed_count is not None,
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


def _bulk_targets(form: forms.BulkActionForm) -> list[str]:
    if form.cleaned_data["scope"] == "filtered":
        instance_filter, _ = InstanceFilter.from_query(QueryDict(form.cleaned_data["filter"]))
        return list(
            instance_filter.queryset()
            .order_by("-created_at", "instance_id")
            .values_list("instance_id", flat=True)[: BULK_LIMIT + 1]
        )
    selected = form.cleaned_data["instance_ids"]
    return list(Instance.objects.filter(pk__in=selected).values_list("instance_id", flat=True))
