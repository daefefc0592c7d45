"""The durable client binding (``@app.durable_client_input``): what an HTTP, timer or queue
function is given to start and manage orchestrations and to signal entities.

Its methods have the names, arguments and return types of the Azure SDK's
``DurableOrchestrationClient``, coroutines where Azure's are, so that a starter written for
Azure runs unchanged (``instance_id = await client.start_new(...)``). Where Azure's client
calls the management API over HTTP, this one calls the services directly, as the function
named in the audit log. The functions it serves run in an event loop, so each ORM call is
handed to ``sync_to_async`` (the function's thread runs it: see ``functions.worker.invoke``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async

from entities import services as entity_services
from functions.bindings import HttpRequest, HttpResponse
from functions.registry import RegisteredFunction
from orchestrations import services
from orchestrations.access.audit import Actor
from orchestrations.access.models import AuditLogEntry
from orchestrations.engine import EntityId
from orchestrations.services.links import (
    KEY_QUERY_PARAMETER,
    MANAGEMENT_PREFIX,
    check_status_headers,
    function_starter_key,
    instance_created_at,
    management_urls,
)
from orchestrations.services.paging import parse_utc
from orchestrations.services.status import status_document


class OrchestrationRuntimeStatus(Enum):
    """An instance's status, under the member names of the Azure SDK's enum."""

    Running = "Running"
    Completed = "Completed"
    ContinuedAsNew = "ContinuedAsNew"
    Failed = "Failed"
    Canceled = "Canceled"
    Terminated = "Terminated"
    Pending = "Pending"
    Suspended = "Suspended"


class DurableOrchestrationStatus:
    """What ``get_status`` returns, with the Azure SDK's attributes. False (and empty) for an
    instance that does not exist, as Azure's is."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self._document = document or {}
        document = self._document
        self.name: str | None = document.get("name")
        self.instance_id: str | None = document.get("instanceId")
        self.created_time: datetime | None = _time(document.get("createdTime"))
        self.last_updated_time: datetime | None = _time(document.get("lastUpdatedTime"))
        self.input_: Any = document.get("input")
        self.output: Any = document.get("output")
        status = document.get("runtimeStatus")
        self.runtime_status: OrchestrationRuntimeStatus | None = OrchestrationRuntimeStatus(status) if status else None
        self.custom_status: Any = document.get("customStatus")
        self.history: list[Any] | None = document.get("historyEvents")

    def __bool__(self) -> bool:
        return self.created_time is not None

    def to_json(self) -> dict[str, Any]:
        return dict(self._document)

    def __repr__(self) -> str:
        return f"<DurableOrchestrationStatus {self.instance_id} {self.runtime_status}>"


class EntityStateResponse:
    """What ``read_entity_state`` returns, as the Azure SDK's."""

    def __init__(self, entity_exists: bool, entity_state: Any = None) -> None:
        self.entity_exists = entity_exists
        self.entity_state = entity_state


class PurgeHistoryResult:
    def __init__(self, instances_deleted: int) -> None:
        self.instances_deleted = instances_deleted


class DurableClient:
    """The client one function is given; its changes are audited as that function's."""

    def __init__(self, function_name: str) -> None:
        self.actor = Actor(f"function:{function_name}", AuditLogEntry.Source.API)
        #: The instances this client started, and when they were created: only their links
        #: carry a link key.
        self.started: dict[str, datetime | None] = {}

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any = None,
        version: str | None = None,
    ) -> str:
        """Start an instance; as on Azure, a finished instance with this id is replaced."""
        started = await sync_to_async(services.start)(
            orchestration_function_name, client_input, instance_id=instance_id, version=version or "", actor=self.actor
        )
        self.started[started] = await sync_to_async(instance_created_at)(started)
        return started

    async def get_status(
        self, instance_id: str, show_history: bool = False, show_history_output: bool = False, show_input: bool = False
    ) -> DurableOrchestrationStatus:
        return await sync_to_async(self._status)(instance_id, show_history, show_history_output, show_input)

    def _status(
        self, instance_id: str, show_history: bool, show_history_output: bool, show_input: bool
    ) -> DurableOrchestrationStatus:
        try:
            instance = services.get(instance_id)
        except services.InstanceNotFoundError:
            return DurableOrchestrationStatus()
        history = services.history(instance_id) if show_history else None
        document = status_document(instance, history=history, show_input=show_input, show_output=show_history_output)
        return DurableOrchestrationStatus(document)

    async def raise_event(self, instance_id: str, event_name: str, event_data: Any = None, **_: Any) -> None:
        if event_name == "":
            raise ValueError("event_name must be a non-empty string.")
        await sync_to_async(services.raise_event)(instance_id, event_name, event_data, actor=self.actor)

    async def terminate(self, instance_id: str, reason: str) -> None:
        """As on Azure, terminating an instance that has already finished does nothing."""
        with contextlib.suppress(services.InstanceFinishedError):
            await sync_to_async(services.terminate)(instance_id, reason, actor=self.actor)

    async def suspend(self, instance_id: str, reason: str) -> None:
        await sync_to_async(services.suspend)(instance_id, reason, actor=self.actor)

    async def resume(self, instance_id: str, reason: str) -> None:
        await sync_to_async(services.resume)(instance_id, reason, actor=self.actor)

    async def rewind(self, instance_id: str, reason: str, **_: Any) -> None:
        await sync_to_async(services.rewind)(instance_id, reason, actor=self.actor)

    async def purge_instance_history(self, instance_id: str) -> PurgeHistoryResult:
        return PurgeHistoryResult(await sync_to_async(services.purge)(instance_id, actor=self.actor))

    async def signal_entity(self, entityId: Any, operation_name: str, operation_input: Any = None, **_: Any) -> None:
        entity_id = _entity_id(entityId)
        await sync_to_async(entity_services.signal)(entity_id, operation_name, operation_input, actor=self.actor)

    async def read_entity_state(self, entityId: Any, **_: Any) -> EntityStateResponse:
        entity_id = _entity_id(entityId)
        try:
            state = await sync_to_async(entity_services.get)(entity_id)
        except entity_services.EntityNotFoundError:
            return EntityStateResponse(False)
        return EntityStateResponse(True, state.state)

    def create_http_management_payload(self, instance_id: str) -> dict[str, str]:
        """The management URLs without a request: relative to this server's root, carrying the
        instance's link key."""
        key = function_starter_key(instance_id, None, self.started.get(instance_id))
        return management_urls(MANAGEMENT_PREFIX, instance_id, key)

    def get_client_response_links(self, request: HttpRequest | None, instance_id: str) -> dict[str, str]:
        if request is None:
            return self.create_http_management_payload(instance_id)
        parts = urlsplit(request.url)
        code = request.params.get(KEY_QUERY_PARAMETER)
        key = function_starter_key(instance_id, code, self.started.get(instance_id))
        return management_urls(f"{parts.scheme}://{parts.netloc}{MANAGEMENT_PREFIX}", instance_id, key)

    def create_check_status_response(self, request: HttpRequest, instance_id: str) -> HttpResponse:
        """202 with the management URLs as the body and the status URL as ``Location``: the
        response the HTTP API's own starter gives."""
        payload = self.get_client_response_links(request, instance_id)
        return HttpResponse(
            json.dumps(payload), status_code=202, headers=check_status_headers(payload), mimetype="application/json"
        )

    async def wait_for_completion_or_create_check_status_response(
        self,
        request: HttpRequest,
        instance_id: str,
        timeout_in_milliseconds: int = 10000,
        retry_interval_in_milliseconds: int = 1000,
    ) -> HttpResponse:
        """Within the timeout: 200 with the output once the instance completes, 200 with its
        status once terminated or canceled, 500 with it once failed; after it, the
        check-status response."""
        if retry_interval_in_milliseconds > timeout_in_milliseconds:
            raise ValueError(
                f"Total timeout {timeout_in_milliseconds} (ms) should be bigger than retry timeout "
                f"{retry_interval_in_milliseconds} (ms)"
            )
        deadline = time.monotonic() + timeout_in_milliseconds / 1000
        while True:
            status = await self.get_status(instance_id)
            finished = _finished_response(status)
            if finished is not None:
                return finished
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self.create_check_status_response(request, instance_id)
            await asyncio.sleep(min(retry_interval_in_milliseconds / 1000, remaining))


def _finished_response(status: DurableOrchestrationStatus) -> HttpResponse | None:
    outcomes = {
        OrchestrationRuntimeStatus.Completed: lambda: (200, status.output),
        OrchestrationRuntimeStatus.Canceled: lambda: (200, status.to_json()),
        OrchestrationRuntimeStatus.Terminated: lambda: (200, status.to_json()),
        OrchestrationRuntimeStatus.Failed: lambda: (500, status.to_json()),
    }
    outcome = outcomes.get(status.runtime_status) if status else None
    if outcome is None:
        return None
    code, body = outcome()
    return HttpResponse(json.dumps(body), status_code=code, mimetype="application/json")


def _entity_id(entity_id: Any) -> EntityId:
    """Perdura's EntityId, its ``@name@key`` text, or anything with ``name`` and ``key`` (the
    Azure SDK's EntityId)."""
    if isinstance(entity_id, EntityId):
        return entity_id
    if isinstance(entity_id, str):
        try:
            return EntityId.parse(entity_id)
        except ValueError as error:
            raise services.BadInputError(str(error)) from None
    return entity_services.parse_entity_id(getattr(entity_id, "name", None), getattr(entity_id, "key", None))


def _time(text: str | None) -> datetime | None:
    return parse_utc(text) if text else None


def client_for(function: RegisteredFunction) -> DurableClient:
    """The factory ``functions.worker.invoke`` calls for each function that asks for a client."""
    return DurableClient(function.name)
