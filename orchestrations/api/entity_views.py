"""Durable entities over HTTP: read, signal, delete and list them (``/entities/...``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from entities import services as entities
from entities.models import Entity
from orchestrations.api import params
from orchestrations.api.auth import Caller, requires
from orchestrations.api.endpoints import endpoint, json_response
from orchestrations.engine.serialization import loads
from orchestrations.services.status import iso_time


@requires("view_console")
def get_entity(request: HttpRequest, caller: Caller, entity_name: str, entity_key: str) -> HttpResponse:
    """200 with the entity's state as the body; 404 if it has none (it does not exist)."""
    state = entities.get(entities.parse_entity_id(entity_name, entity_key))
    return json_response(state.state)


@requires("signal_entity")
def signal_entity(request: HttpRequest, caller: Caller, entity_name: str, entity_key: str) -> HttpResponse:
    """Signal the operation ``op`` (202). The body is its input: JSON with ``Content-Type:
    application/json``, otherwise the text as a string; no body, no input."""
    entity_id = entities.parse_entity_id(entity_name, entity_key)
    if params.is_json(request):
        operation_input = params.json_body(request, caller)
    else:
        operation_input = params.text_body(request) or None
    entities.signal(entity_id, request.GET.get("op", ""), operation_input, actor=caller.actor)
    return json_response({"Message": f"Operation signaled to entity {entity_id}."}, status=202)


@requires("delete_entity")
def delete_entity(request: HttpRequest, caller: Caller, entity_name: str, entity_key: str) -> HttpResponse:
    """Delete the entity's state and pending operations (202); 404 if it does not exist, 400
    while an orchestration holds its lock."""
    entity_id = entities.parse_entity_id(entity_name, entity_key)
    entities.delete(entity_id, actor=caller.actor)
    return json_response({"Message": f"Entity {entity_id} deleted."}, status=202)


@requires("view_console")
def list_entities(request: HttpRequest, caller: Caller, entity_name: str | None = None) -> HttpResponse:
    """Entities of one name (or all), ordered by id, a page at a time like the instance query;
    ``fetchState=true`` adds their states."""
    fetch_state = params.flag(request, "fetchState", False)
    page = entities.query(
        name=entity_name,
        last_operation_from=params.timestamp(request, "lastOperationTimeFrom"),
        last_operation_to=params.timestamp(request, "lastOperationTimeTo"),
        page_size=params.page_size(request),
        continuation_token=params.continuation_token(request),
    )
    statuses = [_entity_status(entity, fetch_state) for entity in page.entities]
    headers = {params.CONTINUATION_TOKEN_HEADER: page.continuation_token} if page.continuation_token else None
    return json_response(statuses, headers=headers)


def _entity_status(entity: Entity, fetch_state: bool) -> dict:
    status = {
        "entityId": {"name": entity.name, "key": entity.key},
        "lastOperationTime": iso_time(entity.last_operation_at) if entity.last_operation_at else None,
    }
    if fetch_state:
        status["state"] = loads(entity.state)
    return status


entity_list = endpoint(GET=list_entities)
entity = endpoint(GET=get_entity, POST=signal_entity, DELETE=delete_entity)
