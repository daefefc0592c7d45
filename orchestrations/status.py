"""The Durable Functions status document of an instance, shared by the CLI and the HTTP API."""

from __future__ import annotations

from typing import Any

from .engine.events import EventType
from .engine.serialization import loads
from .models import HistoryEvent, Instance

#: Replay bookkeeping that Durable Functions leaves out of the history it shows.
_HIDDEN_EVENTS = {EventType.ORCHESTRATOR_STARTED}


def status_document(
    instance: Instance, *, history: list[HistoryEvent] | None = None, show_input: bool = True, show_output: bool = True
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.runtime_status,
        "input": loads(instance.input) if show_input else None,
        "customStatus": loads(instance.custom_status),
        "output": _output(instance),
        "createdTime": _iso(instance.created_at),
        "lastUpdatedTime": _iso(instance.updated_at),
    }
    if history is not None:
        document["historyEvents"] = [
            history_entry(row, show_output) for row in history if row.event_type not in _HIDDEN_EVENTS
        ]
    return document


def _output(instance: Instance) -> Any:
    if instance.failure:
        return f"{instance.failure.get('error_type')}: {instance.failure.get('message')}"
    return loads(instance.output)


def history_entry(row: HistoryEvent, show_output: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {"EventType": row.event_type, "EventId": row.task_id, "Timestamp": _iso(row.timestamp)}
    if row.name:
        entry["Name"] = row.name
    if row.event_type in (
        EventType.EXECUTION_STARTED,
        EventType.TASK_SCHEDULED,
        EventType.SUB_ORCHESTRATION_CREATED,
    ) or row.event_type in (EventType.EVENT_RAISED, EventType.EVENT_SENT):
        entry["Input"] = loads(row.data)
    elif show_output and row.data is not None:
        entry["Result"] = loads(row.data)
    details = row.details or {}
    if "failure" in details:
        entry["FailureDetails"] = {
            "ErrorType": details["failure"].get("error_type"),
            "ErrorMessage": details["failure"].get("message"),
            "StackTrace": details["failure"].get("stack_trace"),
        }
    if "fire_at" in details:
        entry["FireAt"] = details["fire_at"]
    if "status" in details:
        entry["OrchestrationStatus"] = details["status"]
    if details.get("instance_id"):
        entry["InstanceId"] = details["instance_id"]
    return entry


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")
