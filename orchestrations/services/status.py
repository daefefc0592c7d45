"""The Durable Functions status document of an instance, shared by the CLI and the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orchestrations.engine.events import EventType
from orchestrations.engine.serialization import loads
from orchestrations.models import HistoryRow, Instance

#: Replay bookkeeping that Durable Functions leaves out of the history it shows.
_HIDDEN_EVENTS = {EventType.ORCHESTRATOR_STARTED}

#: Events whose data is an input (the rest carry a result).
_INPUT_EVENTS = {
    EventType.EXECUTION_STARTED,
    EventType.TASK_SCHEDULED,
    EventType.SUB_ORCHESTRATION_CREATED,
    EventType.EVENT_RAISED,
    EventType.EVENT_SENT,
}

#: The event that answers a call, and the event that made the call. Durable Functions names
#: the called function and the time of the call on the answer (FunctionName, ScheduledTime).
_ANSWERED_CALLS = {
    EventType.TASK_COMPLETED: EventType.TASK_SCHEDULED,
    EventType.TASK_FAILED: EventType.TASK_SCHEDULED,
    EventType.SUB_ORCHESTRATION_COMPLETED: EventType.SUB_ORCHESTRATION_CREATED,
    EventType.SUB_ORCHESTRATION_FAILED: EventType.SUB_ORCHESTRATION_CREATED,
}


def status_document(
    instance: Instance,
    *,
    history: list[HistoryRow] | None = None,
    show_input: bool = True,
    show_output: bool = True,
) -> dict[str, Any]:
    """The status JSON. ``show_input`` covers the instance's input and the inputs in its
    history; ``show_output`` the results in its history (the instance's output always shows)."""
    document: dict[str, Any] = {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.runtime_status,
        "input": loads(instance.input) if show_input else None,
        "customStatus": loads(instance.custom_status),
        "output": _output(instance),
        "createdTime": iso_time(instance.created_at),
        "lastUpdatedTime": iso_time(instance.updated_at),
    }
    if history is not None:
        document["historyEvents"] = _history_entries(history, show_input, show_output)
    return document


def _output(instance: Instance) -> Any:
    if instance.failure:
        return f"{instance.failure.get('error_type')}: {instance.failure.get('message')}"
    return loads(instance.output)


def _history_entries(history: list[HistoryRow], show_input: bool, show_output: bool) -> list[dict[str, Any]]:
    calls: dict[tuple[EventType, int], HistoryRow] = {}
    entries = []
    for row in history:
        if row.event_type in _HIDDEN_EVENTS:
            continue
        entry = history_entry(row, show_output, show_input)
        if row.event_type in _ANSWERED_CALLS.values() and row.task_id is not None:
            calls[(row.event_type, row.task_id)] = row
        call = calls.get((_ANSWERED_CALLS.get(row.event_type), row.task_id))
        if call is not None:
            entry["FunctionName"] = call.name
            entry["ScheduledTime"] = iso_time(call.timestamp)
        entries.append(entry)
    return entries


def history_entry(row: HistoryRow, show_output: bool = True, show_input: bool = True) -> dict[str, Any]:
    entry: dict[str, Any] = {"EventType": row.event_type, "EventId": row.task_id, "Timestamp": iso_time(row.timestamp)}
    if row.name:
        entry["Name"] = row.name
    if row.event_type == EventType.EXECUTION_STARTED:
        entry["FunctionName"] = row.name
    if row.event_type in _INPUT_EVENTS:
        if show_input:
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


def iso_time(value: datetime) -> str:
    """UTC times as Durable Functions writes them: ISO 8601 with a Z."""
    return value.isoformat().replace("+00:00", "Z")
