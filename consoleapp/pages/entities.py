"""Console pages for durable entities: the list, one entity with its state, lock and queued
operations, and the signal and delete forms."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import json_download, live_url, require_permission
from consoleapp.templatetags.console import dom_id
from entities import services
from entities.models import Entity
from functions.registry import FunctionKind, registry
from orchestrations.access.audit import Actor
from orchestrations.engine import EntityId, InvalidEntityIdError
from orchestrations.models import Message, SetAsideMessage
from orchestrations.services import BadInputError, OrchestrationError
from orchestrations.worker.failures import MAX_FAILED_ATTEMPTS

PAGE_SIZE = 50
QUEUED_SHOWN = 50


def _get_entity_for_user(request: HttpRequest, entity_id: str, codename: str = "view_console") -> Entity:
    require_permission(request.user, codename)
    try:
        parsed = EntityId.parse(entity_id)
    except InvalidEntityIdError:
        raise Http404(f"{entity_id!r} is not an entity id") from None
    entity = Entity.objects.filter(pk=str(parsed)).first()
    if entity is None:
        raise Http404(f"no entity {parsed}")
    return entity


@login_required
@require_GET
def entity_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    return render(request, "entities/list.html", list_context(request.GET))


def list_context(query: QueryDict) -> dict:
    name = (query.get("name") or "").strip()
    include_deleted = query.get("deleted") == "on"
    error = None
    try:
        page = services.query(
            name=name or None,
            include_deleted=include_deleted,
            page_size=PAGE_SIZE,
            continuation_token=query.get("after"),
        )
    except BadInputError as bad:
        error = str(bad)
        page = services.query(name=name or None, include_deleted=include_deleted, page_size=PAGE_SIZE)
    ids = [entity.pk for entity in page.entities]
    queued = dict(
        Message.objects.filter(instance_id__in=ids)
        .values("instance_id")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("instance_id", "count")
    )
    filter_params = [
        (key, value) for key, value in (("name", name), ("deleted", "on" if include_deleted else "")) if value
    ]
    next_query = urlencode([*filter_params, ("after", page.continuation_token)]) if page.continuation_token else None
    return {
        "entities": page.entities,
        "queued": queued,
        "name": name,
        "include_deleted": include_deleted,
        "error": error,
        "entity_names": registry.names(FunctionKind.ENTITY),
        "next_url": f"{reverse('entities')}?{next_query}" if next_query else None,
        "first_url": reverse("entities") + (f"?{urlencode(filter_params)}" if filter_params else "")
        if query.get("after")
        else None,
        "live_url": live_url("entities", [*filter_params, ("after", query.get("after") or "")]),
        "nav": "entities",
    }


def render_list_live(query: QueryDict, user, csrf_token: str | None) -> str:
    context = {**list_context(query), "user": user, "csrf_token": csrf_token, "oob": True}
    return render_to_string("entities/list.html#entities-table", context)


@login_required
@require_GET
def entity_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    entity = _get_entity_for_user(request, entity_id)
    context = {**detail_context(entity), "live_url": live_url("entity", [("id", entity.pk)])}
    return render(request, "entities/detail.html", context)


@login_required
@require_GET
def download_state(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The entity's state, whole, for the page that shows it cut."""
    entity = _get_entity_for_user(request, entity_id)
    return json_download(entity.state, f"{entity.pk}-state.json")


def detail_context(entity: Entity) -> dict:
    queued = Message.objects.filter(instance_id=entity.pk).order_by("visible_at", "pk")
    return {
        "entity": entity,
        "key": dom_id(entity.pk),
        "queued": list(queued[:QUEUED_SHOWN]),
        "queued_count": queued.count(),
        "set_aside": list(SetAsideMessage.objects.filter(instance_id=entity.pk).order_by("-pk")[:QUEUED_SHOWN]),
        "max_failed_attempts": MAX_FAILED_ATTEMPTS,
        "nav": "entities",
    }


def render_detail_live(entity_id: str, user, csrf_token: str | None) -> str:
    entity = Entity.objects.filter(pk=entity_id).first()
    if entity is None:
        return render_to_string("entities/detail.html#entity-gone", {"key": dom_id(entity_id), "oob": True})
    context = {**detail_context(entity), "user": user, "csrf_token": csrf_token, "oob": True}
    return render_to_string("entities/detail.html#entity-live", context)


@require_POST
@login_required
def signal(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "signal_entity")
    form = forms.SignalForm(request.POST)
    # Where to go back to, even from a refused form: from what was sent, as it was sent.
    name, key = str(form["name"].value() or "").strip(), str(form["key"].value() or "")
    back = _detail_url(name, key) if form["back"].value() == "detail" else reverse("entities")
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
        return redirect(back)
    operation = form.cleaned_data["operation"]
    try:
        entity_id = services.parse_entity_id(form.cleaned_data["name"], form.cleaned_data["key"])
        services.signal(entity_id, operation, form.cleaned_data["input"], actor=Actor.for_user(request.user))
    except OrchestrationError as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(request, f"Signalled {operation!r} to {entity_id}.")
    return redirect(_detail_url(entity_id.name, entity_id.key))


def _detail_url(name: str, key: str) -> str:
    try:
        return reverse("entity", args=[str(EntityId(name, key))])
    except InvalidEntityIdError:
        return reverse("entities")


@require_POST
@login_required
def delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    entity = _get_entity_for_user(request, entity_id, "delete_entity")
    try:
        services.delete(EntityId.parse(entity.pk), actor=Actor.for_user(request.user))
    except OrchestrationError as error:
        messages.error(request, str(error))
        return redirect("entity", entity.pk)
    messages.success(request, f"Deleted {entity.pk}.")
    return redirect("entities")
