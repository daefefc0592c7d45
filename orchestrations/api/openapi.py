"""The OpenAPI document of the HTTP API, served at /runtime/webhooks/durabletask/openapi.json
and committed as docs/openapi.json. After changing it, regenerate the committed copy:

    .venv/bin/python -m orchestrations.api.openapi > docs/openapi.json

(a test fails until the two agree). Plain data, no Django, so that the line above needs no
settings.
"""

from __future__ import annotations

import json
from typing import Any

PREFIX = "/runtime/webhooks/durabletask"

DESCRIPTION = """\
Perdura serves the HTTP management API of Azure Durable Functions, so that clients and tools
written against it keep working: same routes, status codes, headers and JSON field names.

**Keys.** Every operation but this document needs an API key (create one in the console or
with `python manage.py durable apikey create --role operator`), sent as Azure Functions keys
are: the `x-functions-key` header or the `code` query parameter. Each key has a role (viewer,
operator, approver, admin); 401 means no valid key, 403 a role without the permission.

**The official Python client.** `azure.durable_functions.DurableOrchestrationClient` can send
no key, so `/runtime/webhooks/durabletask/sdk/{key}/` mirrors every route below with the key in
the path: use it as the `rpcBaseUrl` of the client's binding. That client JSON-encodes payloads
twice; under that base URL a body that is a JSON string holding JSON text stands for that JSON.

**Differences from Azure.** A malformed query parameter is 400 (Azure ignores it); an unknown
instance is 404 for restart too (Azure answers 400); a body that is too large is 413; errors
always have a JSON body. Timestamps carry microseconds. History events keep their
TaskScheduled entries and also carry FunctionName and ScheduledTime on answers, as Azure's do.
"""

_JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {_JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict[str, Any]:
    return _response(description, _ref("Error"))


def _header(description: str, schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


_POLL_HEADERS = {
    "Location": _header("The status URL to poll.", {"type": "string"}),
    "Retry-After": _header("Seconds to wait before polling again.", {"type": "integer"}),
}
_NEXT_PAGE_HEADER = {
    "x-ms-continuation-token": _header(
        "Present when more results follow: send it back in the request header of the same name.",
        {"type": "string"},
        required=False,
    )
}

_COMMON_ERRORS = {
    "400": _error("Bad input: a malformed parameter, body or id; ExceptionMessage says what."),
    "401": _error("No API key, or one that is unknown or revoked."),
    "403": _error("The key's role does not allow this."),
}
_NOT_FOUND = {"404": _error("No such instance (or no route for this path).")}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


_BOOLEAN = {"type": "boolean"}
_TIME = {"type": "string", "format": "date-time"}
_INSTANCE_ID = _path("instanceId", "The instance id (URL-encoded).")
_REASON = _query("reason", {"type": "string"}, "Why; stored in the history and the audit log.")
_WAIT = [
    _query("timeout", {"type": "number", "minimum": 0, "maximum": 300}, "Wait up to so many seconds for the end."),
    _query("pollingInterval", {"type": "number", "minimum": 0}, "Seconds between checks while waiting."),
]
_TOP = _query("top", {"type": "integer", "minimum": 1}, "Page size (at most 1000 are returned a page).")
_CONTINUATION = {
    "name": "x-ms-continuation-token",
    "in": "header",
    "required": False,
    "description": "The token of the previous page's response header, for the next page.",
    "schema": {"type": "string"},
}
_STATUS_FILTERS = [
    _query("createdTimeFrom", _TIME, "Instances created at or after this time."),
    _query("createdTimeTo", _TIME, "Instances created at or before this time."),
    {
        "name": "runtimeStatus",
        "in": "query",
        "required": False,
        "description": "Comma-separated runtime statuses.",
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": _ref("RuntimeStatus")},
    },
]
_ANY_JSON_BODY = {
    "required": False,
    "description": "Any JSON value; an empty body is null.",
    "content": {_JSON: {"schema": {}}},
}


def _started(description: str) -> dict[str, Any]:
    return {
        "202": _response(description, _ref("CheckStatusPayload"), _POLL_HEADERS),
        "200": _response(
            "With timeout and pollingInterval, once it finished in time: the output if it completed, "
            "its status document otherwise.",
            {},
        ),
    }


def _start_operation(summary: str, with_instance_id: bool, operation_id: str) -> dict[str, Any]:
    parameters = [_path("functionName", "The orchestrator function.")]
    if with_instance_id:
        parameters.append(_path("instanceId", "The id to give the instance (URL-encoded)."))
    parameters += [_query("version", {"type": "string"}, "A version label stored with the instance."), *_WAIT]
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["orchestrations"],
            "parameters": parameters,
            "requestBody": _ANY_JSON_BODY,
            "responses": {
                **_started("Started: the check-status payload; Location is the status URL."),
                **_COMMON_ERRORS,
                "404": _error("No route for this path."),
                "409": _error("An instance with this id exists and has not finished."),
                "413": _error("The body is too large."),
            },
        }
    }


def _command(operation_id: str, summary: str, extra_errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["orchestrations"],
            "parameters": [_INSTANCE_ID, _REASON],
            "responses": {
                "202": _response("Accepted.", _ref("Acknowledgement")),
                **_COMMON_ERRORS,
                **_NOT_FOUND,
                **extra_errors,
            },
        }
    }


_GONE = {"410": _error("The instance has finished.")}


def _entity_list(by_name: bool) -> dict[str, Any]:
    name = [_path("entityName", "The entity name (any case).")] if by_name else []
    return {
        "get": {
            "operationId": "listEntitiesByName" if by_name else "listEntities",
            "summary": f"List entities{' of one name' if by_name else ''}, ordered by id, a page at a time",
            "tags": ["entities"],
            "parameters": [
                *name,
                _query("lastOperationTimeFrom", _TIME, "Entities last operated on at or after this time."),
                _query("lastOperationTimeTo", _TIME, "Entities last operated on at or before this time."),
                _query("fetchState", _BOOLEAN, "Include each entity's state (default false)."),
                _TOP,
                _CONTINUATION,
            ],
            "responses": {
                "200": _response(
                    "A page of entities.", {"type": "array", "items": _ref("EntityStatus")}, _NEXT_PAGE_HEADER
                ),
                **_COMMON_ERRORS,
                **({"404": _error("No route for this path.")} if by_name else {}),
            },
        }
    }


def _paths() -> dict[str, Any]:
    instance = f"{PREFIX}/instances/{{instanceId}}"
    entity = f"{PREFIX}/entities/{{entityName}}/{{entityKey}}"
    entity_parameters = [_path("entityName", "The entity name (any case)."), _path("entityKey", "The entity key.")]
    return {
        f"{PREFIX}/orchestrators/{{functionName}}": _start_operation(
            "Start an orchestration", False, "startOrchestration"
        ),
        f"{PREFIX}/orchestrators/{{functionName}}/{{instanceId}}": _start_operation(
            "Start an orchestration under a given id", True, "startOrchestrationWithId"
        ),
        "/api/orchestrators/{functionName}": _start_operation(
            "HTTP starter: start an orchestration", False, "httpStart"
        ),
        "/api/orchestrators/{functionName}/{instanceId}": _start_operation(
            "HTTP starter: start an orchestration under a given id", True, "httpStartWithId"
        ),
        f"{PREFIX}/instances": {
            "get": {
                "operationId": "queryInstances",
                "summary": "Query instances, newest first, a page at a time",
                "tags": ["orchestrations"],
                "parameters": [
                    *_STATUS_FILTERS,
                    _query("instanceIdPrefix", {"type": "string"}, "Instances whose id starts with this."),
                    _query("showInput", _BOOLEAN, "Include inputs (default true)."),
                    _TOP,
                    _CONTINUATION,
                ],
                "responses": {
                    "200": _response(
                        "A page of status documents.",
                        {"type": "array", "items": _ref("OrchestrationStatus")},
                        _NEXT_PAGE_HEADER,
                    ),
                    **_COMMON_ERRORS,
                },
            },
            "delete": {
                "operationId": "purgeInstances",
                "summary": "Purge the finished instances matching the filters (createdTimeFrom is required)",
                "tags": ["orchestrations"],
                "parameters": _STATUS_FILTERS,
                "responses": {
                    "200": _response("Purged.", _ref("PurgeResult")),
                    "404": _error("No instance matched."),
                    **_COMMON_ERRORS,
                },
            },
        },
        instance: {
            "get": {
                "operationId": "getInstanceStatus",
                "summary": "An instance's status",
                "tags": ["orchestrations"],
                "parameters": [
                    _INSTANCE_ID,
                    _query("showHistory", _BOOLEAN, "Include the history (default false)."),
                    _query("showHistoryOutput", _BOOLEAN, "Include results in the history (default false)."),
                    _query("showInput", _BOOLEAN, "Include inputs (default true)."),
                    _query("returnInternalServerErrorOnFailure", _BOOLEAN, "Answer 500 for a failed instance."),
                ],
                "responses": {
                    "200": _response("The instance has finished.", _ref("OrchestrationStatus")),
                    "202": _response(
                        "The instance is pending, running or suspended.", _ref("OrchestrationStatus"), _POLL_HEADERS
                    ),
                    "500": _response(
                        "The instance failed and returnInternalServerErrorOnFailure=true.", _ref("OrchestrationStatus")
                    ),
                    **_COMMON_ERRORS,
                    **_NOT_FOUND,
                },
            },
            "delete": {
                "operationId": "purgeInstance",
                "summary": "Purge a finished instance",
                "tags": ["orchestrations"],
                "parameters": [_INSTANCE_ID],
                "responses": {
                    "200": _response("Purged.", _ref("PurgeResult")),
                    **_COMMON_ERRORS,
                    **_NOT_FOUND,
                    "412": _error("The instance has not finished."),
                },
            },
        },
        f"{instance}/raiseEvent/{{eventName}}": {
            "post": {
                "operationId": "raiseEvent",
                "summary": "Send an event to an instance (Content-Type: application/json)",
                "tags": ["orchestrations"],
                "parameters": [_INSTANCE_ID, _path("eventName", "The event name (URL-encoded).")],
                "requestBody": _ANY_JSON_BODY,
                "responses": {
                    "202": _response("Sent.", _ref("Acknowledgement")),
                    **_COMMON_ERRORS,
                    **_NOT_FOUND,
                    **_GONE,
                    "413": _error("The body is too large."),
                },
            }
        },
        f"{instance}/terminate": _command("terminate", "Terminate an instance", _GONE),
        f"{instance}/suspend": _command("suspend", "Suspend an instance", _GONE),
        f"{instance}/resume": _command("resume", "Resume a suspended instance", _GONE),
        f"{instance}/rewind": _command(
            "rewind", "Rewind a failed instance", {"412": _error("The instance has not failed.")}
        ),
        f"{instance}/restart": {
            "post": {
                "operationId": "restart",
                "summary": "Start an instance's orchestration again with its original input",
                "tags": ["orchestrations"],
                "parameters": [
                    _INSTANCE_ID,
                    _query("restartWithNewInstanceId", _BOOLEAN, "Use a new id (default true)."),
                    *_WAIT,
                ],
                "responses": {
                    **_started("Restarted: the check-status payload of the new instance."),
                    **_COMMON_ERRORS,
                    **_NOT_FOUND,
                    "409": _error("Restarting under the same id an instance that has not finished."),
                },
            }
        },
        f"{PREFIX}/entities": _entity_list(by_name=False),
        f"{PREFIX}/entities/{{entityName}}": _entity_list(by_name=True),
        entity: {
            "get": {
                "operationId": "getEntity",
                "summary": "An entity's state",
                "tags": ["entities"],
                "parameters": entity_parameters,
                "responses": {
                    "200": _response("The state.", {}),
                    **_COMMON_ERRORS,
                    "404": _error("The entity does not exist."),
                },
            },
            "post": {
                "operationId": "signalEntity",
                "summary": "Signal an operation to an entity",
                "tags": ["entities"],
                "parameters": [
                    *entity_parameters,
                    _query("op", {"type": "string", "minLength": 1}, "The operation.", required=True),
                ],
                "requestBody": {
                    "required": False,
                    "description": "The operation's input: JSON, or any other text as a string.",
                    "content": {_JSON: {"schema": {}}, "text/plain": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "202": _response("Signaled.", _ref("Acknowledgement")),
                    **_COMMON_ERRORS,
                    "404": _error("No route for this path."),
                    "413": _error("The body is too large."),
                },
            },
            "delete": {
                "operationId": "deleteEntity",
                "summary": "Delete an entity's state and pending operations",
                "tags": ["entities"],
                "parameters": entity_parameters,
                "responses": {
                    "202": _response("Deleted.", _ref("Acknowledgement")),
                    **_COMMON_ERRORS,
                    "404": _error("The entity does not exist."),
                    "409": _error("An orchestration holds the entity's lock."),
                },
            },
        },
        f"{PREFIX}/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": _response("The OpenAPI document.", {"type": "object"})},
            }
        },
    }


_RUNTIME_STATUSES = [
    "Pending",
    "Running",
    "Completed",
    "ContinuedAsNew",
    "Failed",
    "Canceled",
    "Terminated",
    "Suspended",
]
_URL = {"type": "string"}


def _schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["Message"],
            "properties": {
                "Message": {"type": "string"},
                "ExceptionMessage": {"type": "string"},
                "ExceptionType": {"type": "string"},
            },
        },
        "Acknowledgement": {"type": "object", "required": ["Message"], "properties": {"Message": {"type": "string"}}},
        "RuntimeStatus": {"type": "string", "enum": _RUNTIME_STATUSES},
        "CheckStatusPayload": {
            "type": "object",
            "description": "The management URLs of an instance; {eventName} and {text} are placeholders.",
            "required": [
                "id",
                "statusQueryGetUri",
                "sendEventPostUri",
                "terminatePostUri",
                "rewindPostUri",
                "purgeHistoryDeleteUri",
                "restartPostUri",
                "suspendPostUri",
                "resumePostUri",
            ],
            "properties": {
                "id": {"type": "string"},
                "statusQueryGetUri": _URL,
                "sendEventPostUri": _URL,
                "terminatePostUri": _URL,
                "rewindPostUri": _URL,
                "purgeHistoryDeleteUri": _URL,
                "restartPostUri": _URL,
                "suspendPostUri": _URL,
                "resumePostUri": _URL,
            },
        },
        "OrchestrationStatus": {
            "type": "object",
            "required": [
                "name",
                "instanceId",
                "runtimeStatus",
                "input",
                "customStatus",
                "output",
                "createdTime",
                "lastUpdatedTime",
            ],
            "properties": {
                "name": {"type": "string"},
                "instanceId": {"type": "string"},
                "runtimeStatus": _ref("RuntimeStatus"),
                "input": {"description": "The input (null with showInput=false)."},
                "customStatus": {},
                "output": {"description": "The output; for a failed instance, its error as text."},
                "createdTime": _TIME,
                "lastUpdatedTime": _TIME,
                "historyEvents": {"type": "array", "items": _ref("HistoryEvent")},
            },
        },
        "HistoryEvent": {
            "type": "object",
            "required": ["EventType", "Timestamp"],
            "properties": {
                "EventType": {"type": "string"},
                "EventId": {"type": ["integer", "null"]},
                "Timestamp": _TIME,
                "Name": {"type": "string"},
                "FunctionName": {"type": "string"},
                "ScheduledTime": _TIME,
                "Input": {},
                "Result": {},
                "FailureDetails": {"type": "object"},
                "FireAt": {"type": "string"},
                "OrchestrationStatus": {"type": "string"},
                "InstanceId": {"type": "string"},
            },
        },
        "PurgeResult": {
            "type": "object",
            "required": ["instancesDeleted"],
            "properties": {"instancesDeleted": {"type": "integer", "minimum": 0}},
        },
        "EntityStatus": {
            "type": "object",
            "required": ["entityId", "lastOperationTime"],
            "properties": {
                "entityId": {
                    "type": "object",
                    "required": ["name", "key"],
                    "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
                },
                "lastOperationTime": {"type": ["string", "null"], "format": "date-time"},
                "state": {"description": "With fetchState=true."},
            },
        },
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Perdura: the Durable Functions HTTP API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"functionKeyHeader": []}, {"functionKeyQuery": []}],
        "tags": [
            {"name": "orchestrations", "description": "Orchestration instances."},
            {"name": "entities", "description": "Durable entities."},
            {"name": "meta", "description": "About the API."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "functionKeyHeader": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
    }


def document_text() -> str:
    """The committed file's exact text."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(document_text(), end="")
