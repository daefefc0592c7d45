"""The checkpoint writer: what a batch of episodes did, written in the caller's transaction
and (most of it) in one round trip to the database. The worker plans the episodes
(worker/episodes.py); this writes any object that offers what EpisodeWrites names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db.models import Min

from functions.models import Invocation
from orchestrations.engine import FailureDetails, HistoryEvent, OrchestrationStatus
from orchestrations.engine import events as ev
from orchestrations.engine.events import CONTROL_EVENTS
from orchestrations.engine.status import TERMINAL_STATUSES
from orchestrations.models import Approval, HistoryRow, Instance, Message, SetAsideMessage, WorkItem
from orchestrations.store import notices
from orchestrations.store.bulk import Statement, insert_statement, inserted, run_statements, update_statement
from orchestrations.store.inbox import LockedRow, deliver
from orchestrations.store.leases import LeaseLostError
from orchestrations.store.rows import ActivityRun, execution_of, replace_instance
from orchestrations.store.wakeups import ACTIVITIES, notify_on_commit


@dataclass(frozen=True)
class Written:
    #: The work items the caller kept to run itself, with their new run records.
    runs: list[ActivityRun]
    #: The results of the caller's own statements (``also``), in the order it gave them.
    also: list[Any]


class EpisodeWrites(Protocol):
    """What one episode writes, as the worker's EpisodePlan holds it."""

    instance: Instance
    now: datetime
    status: OrchestrationStatus
    fields: dict[str, Any]
    consumed_ids: list[int]
    history: list[HistoryEvent]
    reset_history: bool
    outgoing: list[Message]
    work_items: list[WorkItem]
    children: list[Instance]
    child_starts: list[Message]
    approvals: list[Approval]
    set_aside_messages: list[SetAsideMessage]

    @property
    def first_sequence(self) -> int: ...

    def knows_next_message(self) -> bool: ...

    def history_rows(self) -> list[HistoryRow]: ...


def episode_targets(plans: Sequence[EpisodeWrites]) -> list[str]:
    """The other instances these episodes write to: their messages' targets and new children."""
    return [
        *(message.instance_id for plan in plans for message in plan.outgoing),
        *(child.pk for plan in plans for child in plan.children),
    ]


def write_episodes(
    plans: Sequence[EpisodeWrites],
    worker_id: str,
    locked: dict[str, LockedRow],
    *,
    kept: Sequence[WorkItem] = (),
    kept_from: str = "",
    also: Sequence[Statement | None] = (),
) -> Written:
    """Write what the episodes did, inside the caller's transaction, which holds the locks on
    their instances and the instances they write to (``locked``, with each row's status and
    execution), and has checked that the episodes may be written.

    ``kept`` are work items of these episodes that the caller (an activity worker,
    ``kept_from``) keeps to run itself: each has the key of a finished work item of its
    instance still leased to the caller, whose row it takes over. ``also`` are the caller's own
    statements, sent in the same round trip. Returns the kept work items with their new
    Executions, and the results of ``also``; raises LeaseLostError if a kept item's row was no
    longer the caller's."""
    outgoing = [message for plan in plans for message in plan.outgoing]
    children = [child for plan in plans for child in plan.children]
    starts = [start for plan in plans for start in plan.child_starts]
    children, outgoing = _admit_children(children, starts, outgoing, locked)
    admitted = {id(child) for child in children}
    for plan in plans:  # What was refused was answered with a failure: it did not start.
        plan.children = [child for child in plan.children if id(child) in admitted]
    resets = [plan.instance.pk for plan in plans if plan.reset_history]
    if resets:
        HistoryRow.objects.filter(instance_id__in=resets).delete()
    for child in children:
        replace_instance(child, replacing=child.pk in locked)
    _write_approvals(plans)
    set_aside = [message for plan in plans for message in plan.set_aside_messages]
    if set_aside:
        SetAsideMessage.objects.bulk_create(set_aside)
    deliver(outgoing)
    kept_ids = {id(item) for item in kept}
    new_items = [item for plan in plans for item in plan.work_items if id(item) not in kept_ids]
    executions = [execution_of(item, worker_id, item.created_at) for item in kept]
    # The rest in one round trip: history, activities to run, the instance rows; each
    # statement's result read back by the name it was sent under.
    mine = {
        "history": insert_statement(HistoryRow, [row for plan in plans for row in plan.history_rows()]),
        "kept": update_statement(WorkItem, kept, WORK_ITEM_FIELDS, where="lease_owner = %s", where_params=[kept_from]),
        "new_items": insert_statement(WorkItem, new_items),
        "executions": insert_statement(Invocation, executions, returning=True),
    }
    updates = _instance_updates(plans)
    results = run_statements([*also, *mine.values(), *updates])
    named = dict(zip(mine, results[len(also) : len(also) + len(mine)], strict=True))
    if kept and named["kept"] != len(kept):
        raise LeaseLostError(f"{len(kept) - named['kept']} of the finished work items are no longer {kept_from}'s")
    if new_items:
        notify_on_commit(ACTIVITIES)
    runs = [
        ActivityRun(item, execution)
        for item, execution in zip(kept, inserted(executions, named["executions"]), strict=True)
    ]
    return Written(runs, results[: len(also)])


#: Every field of a work item but its key: what a kept work item writes over the finished one.
WORK_ITEM_FIELDS = [field.name for field in WorkItem._meta.concrete_fields if not field.primary_key]


def _admit_children(
    children: list[Instance], starts: list[Message], outgoing: list[Message], locked: dict[str, LockedRow]
) -> tuple[list[Instance], list[Message]]:
    """Check, under the row locks, that each sub-orchestration can start: its id must be free
    or finished, and taken by no earlier start in this batch. A child that cannot start is
    answered at once with a failure to its parent, and its start message is dropped."""
    admitted: list[Instance] = []
    dropped: list[Message] = []
    for child, start in zip(children, starts, strict=True):
        row = locked.get(child.pk)
        if child.pk in {other.pk for other in admitted} or (
            row is not None and row.runtime_status not in TERMINAL_STATUSES
        ):
            error = ValueError(f"an instance with id {child.pk!r} already exists and is not finished")
            failed = ev.sub_orchestration_failed(
                child.created_at, child.parent_task_id, FailureDetails.from_exception(error)
            )
            outgoing = [
                *outgoing,
                Message.for_event(child.parent_instance_id, failed, execution_id=child.parent_execution_id),
            ]
            dropped.append(start)
        else:
            admitted.append(child)
    return admitted, [message for message in outgoing if all(message is not start for start in dropped)]


def _write_approvals(plans: Sequence[EpisodeWrites]) -> None:
    approvals = [approval for plan in plans for approval in plan.approvals]
    if approvals:
        Approval.objects.bulk_create(approvals)
        notices.publish_on_commit(notices.APPROVAL, [str(approval.pk) for approval in approvals])
    ended = [
        plan.instance.pk
        for plan in plans
        if plan.status.is_terminal or plan.status == OrchestrationStatus.CONTINUED_AS_NEW
    ]
    if ended:
        # Nobody is waiting for these decisions any more.
        Approval.objects.filter(instance_id__in=ended, status=Approval.Status.PENDING).update(
            status=Approval.Status.CANCELED
        )


def _instance_updates(plans: Sequence[EpisodeWrites]) -> list[Statement | None]:
    """The UPDATEs that write each instance's new state, its next wake-up computed from its
    inbox as it is now (after this batch's deliveries) and its lease released; one per set of
    changed fields."""
    plans_by_id = {plan.instance.pk: plan for plan in plans}
    known = {plan.instance.pk: plan.instance.next_message_at for plan in plans if plan.knows_next_message()}
    ids = [plan.instance.pk for plan in plans if plan.instance.pk not in known]
    earliest = known
    # What the episodes consumed is deleted in the same round trip as this is written.
    consumed = [message_id for plan in plans for message_id in plan.consumed_ids]
    if ids:
        earliest |= dict(
            Message.objects.filter(instance_id__in=ids)
            .exclude(pk__in=consumed)
            .values("instance_id")
            .annotate(earliest=Min("visible_at"))
            .values_list("instance_id", "earliest")
        )
    suspended = [pk for pk in ids if plans_by_id[pk].status == OrchestrationStatus.SUSPENDED]
    if suspended:
        # While suspended only control messages are worth waking up for.
        control = dict(
            Message.objects.filter(instance_id__in=suspended, event_type__in=CONTROL_EVENTS)
            .exclude(pk__in=consumed)
            .values("instance_id")
            .annotate(earliest=Min("visible_at"))
            .values_list("instance_id", "earliest")
        )
        for instance_id in suspended:
            earliest[instance_id] = control.get(instance_id)
    by_fields: dict[tuple[str, ...], list[Instance]] = {}
    for plan in plans:
        instance = plan.instance
        for name, value in plan.fields.items():
            setattr(instance, name, value)
        instance.history_length = plan.first_sequence + len(plan.history)
        instance.next_message_at = earliest.get(instance.pk)
        instance.updated_at = plan.now
        instance.lease_owner = None
        instance.lease_expires_at = None
        by_fields.setdefault(tuple(sorted(plan.fields)), []).append(instance)
    fixed = ["history_length", "next_message_at", "updated_at", "lease_owner", "lease_expires_at"]
    return [update_statement(Instance, instances, [*fixed, *fields]) for fields, instances in by_fields.items()]
