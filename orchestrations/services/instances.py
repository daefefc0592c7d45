"""Commands on orchestration instances: the one place the CLI, the HTTP API, the console and
the engine's own callers go through to start, restart, raise events on, terminate, suspend,
resume, rewind and purge them.

Each command validates its input, raises a specific error for a request that cannot be
served (unknown instance, finished instance, bad input), and otherwise writes an inbox message
that a worker turns into history. Nothing is changed when an error is raised."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from functions.registry import FunctionKind, UnknownFunctionError, registry
from orchestrations.access import audit
from orchestrations.access.audit import Actor
from orchestrations.engine import (
    FailureDetails,
    OrchestrationStatus,
    validate_instance_id,
)
from orchestrations.engine import events as ev
from orchestrations.engine.ids import InvalidInstanceIdError, new_instance_id
from orchestrations.engine.limits import (
    MAX_EVENT_NAME_LENGTH,
    MAX_VERSION_LENGTH,
    check_name,
    check_reason,
    check_text,
)
from orchestrations.engine.rewind import OpenSubOrchestration, RewindPlan, RewindRefusedError, plan_rewind
from orchestrations.engine.serialization import loads
from orchestrations.engine.status import TERMINAL_STATUSES, allows
from orchestrations.models import HistoryRow, Instance, Message, WorkItem
from orchestrations.services.common import (
    BadInputError,
    InstanceExistsError,
    InstanceFinishedError,
    InvalidStateError,
    NotAllowedError,
    checked,
    serialize_payload,
)
from orchestrations.services.queries import get_instance, query_filter
from orchestrations.store import notices
from orchestrations.store.inbox import deliver
from orchestrations.store.rows import (
    InstanceRunningError,
    delete_instances,
    lock_for_start,
    schedule_new_instance,
)
from orchestrations.store.wakeups import ACTIVITIES, notify_on_commit


def _check_may_replace(actor: Actor | None, instance_id: str, status: str) -> None:
    """Replacing a finished instance erases its history, as a purge does, and needs the same
    permission, whichever command would do it (a start or a restart under its id)."""
    if actor is not None and not actor.may("purge_instance"):
        raise NotAllowedError(
            f"an instance with id {instance_id!r} exists ({status}); replacing it erases its history, which "
            "needs the purge permission (admin): start under a new id, or ask an admin to purge it first"
        )


def _check_instance_id(instance_id: str) -> str:
    try:
        return validate_instance_id(instance_id)
    except InvalidInstanceIdError as error:
        raise BadInputError(f"invalid instance id: {error}") from None


# Starting.


def start(
    name: str, input: Any = None, *, instance_id: str | None = None, version: str = "", actor: Actor | None = None
) -> str:
    """Schedule a new instance of orchestrator ``name``; return its id. An id in use by an
    instance that has not finished is refused; a finished one is replaced."""
    checked(check_name, name, "an orchestrator name")
    checked(check_text, version, "the version", MAX_VERSION_LENGTH)
    try:
        registry.get(FunctionKind.ORCHESTRATOR, name)
    except UnknownFunctionError as error:
        raise BadInputError(str(error)) from None
    instance_id = _check_instance_id(instance_id) if instance_id is not None else new_instance_id()
    payload = serialize_payload(input, "the input")
    with transaction.atomic():
        try:
            replaced_status = lock_for_start(instance_id)
        except InstanceRunningError as error:
            raise InstanceExistsError(str(error)) from None
        if replaced_status is not None:
            _check_may_replace(actor, instance_id, replaced_status)
        schedule_new_instance(instance_id, name, payload, version=version, replacing=replaced_status is not None)
        if replaced_status is None:
            audit.record(actor, "start", "instance", instance_id, details={"name": name})
        else:
            details = {"name": name, "replaced_status": replaced_status}
            audit.record(actor, "replace", "instance", instance_id, details=details)
    return instance_id


def restart(
    instance_id: str, *, new_instance_id: bool = False, reason: str | None = None, actor: Actor | None = None
) -> str:
    """Start the orchestration again with its original input, under its id or a new one."""
    checked(check_reason, reason)
    instance = get_instance(instance_id)
    if not new_instance_id and not instance.is_terminal:
        raise InvalidStateError(
            f"instance {instance_id!r} is {instance.runtime_status}; only a finished instance can be restarted "
            "under the same id (restart with a new id instead)"
        )
    details: dict[str, Any] = {}
    if not new_instance_id:
        _check_may_replace(actor, instance_id, instance.runtime_status)
        details["replaced_status"] = instance.runtime_status
    with transaction.atomic():
        restarted = start(
            instance.name,
            loads(instance.input),
            instance_id=None if new_instance_id else instance_id,
            version=instance.version,
        )
        details["new_instance_id"] = restarted
        audit.record(actor, "restart", "instance", instance_id, reason=reason, details=details)
    return restarted


# Acting on a running instance.


def _send_control(
    instance_id: str, event: ev.HistoryEvent, actor: Actor | None, action: str, reason: str | None = None
) -> None:
    with transaction.atomic():
        instance = get_instance(instance_id, lock=True)
        if instance.is_terminal:
            raise InstanceFinishedError(f"instance {instance_id!r} has already finished ({instance.runtime_status})")
        deliver([Message.for_event(instance_id, event)])
        details = {"event_name": event.name} if event.name else {}
        audit.record(actor, action, "instance", instance_id, reason=reason, details=details)


def raise_event(
    instance_id: str, event_name: str, data: Any = None, *, reason: str | None = None, actor: Actor | None = None
) -> None:
    if not isinstance(event_name, str) or not event_name.strip():
        raise BadInputError("an event name must be a non-empty string")
    checked(check_name, event_name, "an event name", MAX_EVENT_NAME_LENGTH)
    checked(check_reason, reason)
    payload = serialize_payload(data, "the event data")
    _send_control(instance_id, ev.event_raised(_now(), event_name, payload), actor, "raise_event", reason)


def terminate(instance_id: str, reason: str | None = None, *, actor: Actor | None = None) -> None:
    checked(check_reason, reason)
    event = ev.execution_terminated(_now(), serialize_payload(reason, "the reason"))
    _send_control(instance_id, event, actor, "terminate", reason)


def suspend(instance_id: str, reason: str | None = None, *, actor: Actor | None = None) -> None:
    checked(check_reason, reason)
    event = ev.execution_suspended(_now(), serialize_payload(reason, "the reason"))
    _send_control(instance_id, event, actor, "suspend", reason)


def resume(instance_id: str, reason: str | None = None, *, actor: Actor | None = None) -> None:
    checked(check_reason, reason)
    event = ev.execution_resumed(_now(), serialize_payload(reason, "the reason"))
    _send_control(instance_id, event, actor, "resume", reason)


def _now() -> datetime:
    return timezone.now()


# Rewind.


@transaction.atomic
def rewind(instance_id: str, reason: str | None = None, *, actor: Actor | None = None) -> None:
    """Take a failed instance back to before its failure and carry on (engine/rewind.py says
    what that means for its history): the calls whose failure ended it run again, calls still
    open when it failed are re-issued, failed sub-orchestrations are rewound too, and the
    orchestrator replays to where it was."""
    checked(check_reason, reason)
    instance = get_instance(instance_id, lock=True)
    if not allows(instance.runtime_status, "rewind"):
        raise InvalidStateError(f"only a failed instance can be rewound; {instance_id!r} is {instance.runtime_status}")
    rows = list(HistoryRow.objects.filter(instance_id=instance_id).order_by("sequence"))
    try:
        plan = plan_rewind([row.to_engine() for row in rows])
    except RewindRefusedError as error:
        raise InvalidStateError(f"{instance_id!r} {error}") from None
    HistoryRow.objects.filter(pk__in=[rows[position].pk for position in plan.forgotten]).delete()
    kept = [row for position, row in enumerate(rows) if position not in plan.forgotten]
    _renumber(kept)
    now = _now()
    messages = _reissue_open_calls(instance, plan, now)
    Instance.objects.filter(pk=instance_id).update(
        runtime_status=OrchestrationStatus.RUNNING,
        output=None,
        failure=None,
        completed_at=None,
        updated_at=now,
        history_length=len(kept),
    )
    rewound = ev.execution_rewound(now, serialize_payload(reason, "the reason"))
    deliver([*messages, Message.for_event(instance_id, rewound)])
    audit.record(actor, "rewind", "instance", instance_id, reason=reason)
    notices.publish_on_commit(notices.INSTANCE, [instance_id])


def _renumber(rows: list[HistoryRow]) -> None:
    """Close the gaps the forgotten rows left. Going up in order, each row moves down into a
    sequence number already vacated, so the unique constraint holds at every step."""
    for position, row in enumerate(rows):
        if row.sequence != position:
            row.sequence = position
            row.save(update_fields=["sequence"])


def _reissue_open_calls(instance: Instance, plan: RewindPlan, now: datetime) -> list[Message]:
    """Make the plan's open calls again: activities not waiting already get a work item, timers
    their firing, sub-orchestrations what _resume_child says."""
    waiting_items = set(WorkItem.objects.filter(instance_id=instance.pk).values_list("task_id", flat=True))
    WorkItem.objects.bulk_create(
        WorkItem.for_call(instance.pk, instance.execution_id, call.task_id, call.name, call.input, now)
        for call in plan.activities
        if call.task_id not in waiting_items
    )
    messages = [
        Message.for_event(
            instance.pk,
            ev.timer_fired(timer.fire_at, timer.task_id, timer.fire_at),
            execution_id=instance.execution_id,
            visible_at=max(timer.fire_at, now),
        )
        for timer in plan.timers
    ]
    for call in plan.sub_orchestrations:
        messages += _resume_child(instance, call, now)
    notify_on_commit(ACTIVITIES)
    return messages


def _resume_child(parent: Instance, call: OpenSubOrchestration, now: datetime) -> list[Message]:
    """What a rewound parent needs from a sub-orchestration it is still waiting for: a failed
    child is rewound too; a finished one answers again; one that is gone or was terminated
    fails the call again (its parent would otherwise wait forever)."""
    child_id = call.instance_id
    child = Instance.objects.filter(pk=child_id).first()
    if child is not None and child.status == OrchestrationStatus.FAILED:
        rewind(child.pk, "the parent orchestration was rewound")
        return []
    if child is not None and child.status == OrchestrationStatus.COMPLETED:
        answer = ev.sub_orchestration_completed(now, call.task_id, child.output)
    elif child is None or child.is_terminal:
        why = "no longer exists" if child is None else f"ended {child.runtime_status}"
        failure = FailureDetails("SubOrchestrationEnded", f"the sub-orchestration {child_id!r} {why}")
        answer = ev.sub_orchestration_failed(now, call.task_id, failure)
    else:
        return []  # Still running: it answers when it finishes.
    return [Message.for_event(parent.pk, answer, execution_id=parent.execution_id)]


# Purging.


def purge(instance_id: str, *, reason: str | None = None, actor: Actor | None = None) -> int:
    """Delete a finished instance and everything stored for it; return how many instances went."""
    checked(check_reason, reason)
    with transaction.atomic():
        instance = get_instance(instance_id, lock=True)
        if not allows(instance.runtime_status, "purge"):
            raise InvalidStateError(
                f"instance {instance_id!r} is {instance.runtime_status}; terminate it before purging it"
            )
        delete_instances([instance_id])
        audit.record(actor, "purge", "instance", instance_id, reason=reason)
        notices.publish_on_commit(notices.INSTANCE, [instance_id])
    return 1


def purge_by(
    *,
    statuses: Iterable[str] | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    batch_size: int = 1000,
    actor: Actor | None = None,
) -> int:
    """Delete finished instances matching the filters, a batch per transaction."""
    statuses = list(statuses or TERMINAL_STATUSES)
    not_finished = set(statuses) - set(TERMINAL_STATUSES)
    if not_finished:
        raise BadInputError(f"only finished instances can be purged, not {sorted(not_finished)}")
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                query_filter(statuses, None, created_from, created_to, None).values_list("instance_id", flat=True)[
                    :batch_size
                ]
            )
            if not ids:
                break
            delete_instances(ids)
        total += len(ids)
    filters = {
        "statuses": statuses,
        "created_from": created_from.isoformat() if created_from else None,
        "created_to": created_to.isoformat() if created_to else None,
    }
    audit.record(actor, "purge_by_filter", "instance", "", details={**filters, "purged": total})
    return total
