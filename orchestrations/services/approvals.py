"""Approvals: ``request_approval`` steps that people decide in the console.

A decision and an expiry both go through the approval row's lock and each sends the one
ApprovalDecided message the orchestration waits for, so exactly one of them wins.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from orchestrations.access import audit, roles
from orchestrations.access.audit import Actor
from orchestrations.engine import events as ev
from orchestrations.engine.limits import check_reason
from orchestrations.engine.serialization import dumps
from orchestrations.models import Approval, Message
from orchestrations.services import InstanceNotFoundError, InvalidStateError, NotAllowedError, checked
from orchestrations.store import notices
from orchestrations.store.inbox import deliver, lock_instances


def can_decide(user, approval: Approval) -> bool:
    """The rule of roles.APPROVALS_DECIDED: an admin decides any approval, an approver those
    assigned to none of the groups or to one of theirs."""
    if not roles.can(user, "decide_approval"):
        return False
    if roles.decides_every_approval(user) or not approval.assignees:
        return True
    return user.groups.filter(name__in=approval.assignees).exists()


def decidable_by(user) -> QuerySet[Approval]:
    """The approvals ``user`` may decide (every role that reads sees them all)."""
    approvals = Approval.objects.all()
    if not roles.can(user, "decide_approval"):
        return approvals.none()
    if roles.decides_every_approval(user):
        return approvals
    groups = list(user.groups.values_list("name", flat=True))
    if not connection.features.supports_json_field_contains:
        # SQLite cannot look inside a JSON list; the embedded mode's approvals are few enough
        # to match exactly in Python.
        mine = set(groups)
        rows = approvals.values_list("pk", "assignees")
        return approvals.filter(pk__in=[pk for pk, assignees in rows if not assignees or mine & set(assignees)])
    assigned = Q(assignees=[])
    for group in groups:
        assigned |= Q(assignees__contains=[group])
    return approvals.filter(assigned)


def decide(approval_id: int, *, approved: bool, comment: str = "", user, actor: Actor) -> Approval:
    """Record a person's decision and send it to the waiting orchestration."""
    checked(check_reason, comment, "the comment")
    approval = Approval.objects.filter(pk=approval_id).first()
    if approval is None:
        raise InstanceNotFoundError(f"no approval with id {approval_id}")
    if not can_decide(user, approval):
        raise NotAllowedError(f"{user.get_username()} may not decide approval {approval_id}")
    now = timezone.now()
    with transaction.atomic():
        lock_instances([approval.instance_id])
        approval = Approval.objects.select_for_update().get(pk=approval_id)
        if not approval.is_pending:
            raise InvalidStateError(f"approval {approval_id} is already {approval.status}")
        approval.status = Approval.Status.APPROVED if approved else Approval.Status.REJECTED
        approval.decided_by = actor.name
        approval.decided_at = now
        approval.comment = comment
        approval.save(update_fields=["status", "decided_by", "decided_at", "comment"])
        _send_decision(approval, approved=approved, by=actor.name, comment=comment, now=now, timed_out=False)
        audit.record(
            actor,
            "approve" if approved else "reject",
            "approval",
            str(approval.pk),
            reason=comment,
            details={"instance_id": approval.instance_id, "name": approval.name},
        )
    return approval


def expire_due(now: datetime | None = None) -> int:
    """Expire pending approvals past their deadline; the orchestration gets a timed-out rejection."""
    now = now or timezone.now()
    expired = 0
    due = Approval.objects.filter(status=Approval.Status.PENDING, deadline__lte=now).values_list("pk", "instance_id")
    for approval_id, instance_id in due:
        with transaction.atomic():
            # The instance row first, then the approval, in the order decide() takes them.
            lock_instances([instance_id])
            approval = Approval.objects.select_for_update().filter(pk=approval_id, status="pending").first()
            if approval is None:
                continue
            approval.status = Approval.Status.EXPIRED
            approval.decided_at = now
            approval.save(update_fields=["status", "decided_at"])
            _send_decision(approval, approved=False, by=None, comment="", now=now, timed_out=True)
            expired += 1
    return expired


def _send_decision(approval: Approval, *, approved: bool, by: str | None, comment: str, now, timed_out: bool) -> None:
    decision = {
        "approved": approved,
        "by": by,
        "comment": comment,
        "decided_at": now.isoformat(),
        "timed_out": timed_out,
    }
    event = ev.approval_decided(now, approval.task_id, dumps(decision))
    deliver([Message.for_event(approval.instance_id, event, execution_id=approval.execution_id)])
    notices.publish_on_commit(notices.APPROVAL, [str(approval.pk)])
