"""Approvals: ``request_approval`` steps that people decide in the console; who may decide
which, and the decision itself (settled in store/approvals.py, as expiries are)."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from orchestrations.access import audit, roles
from orchestrations.access.audit import Actor
from orchestrations.engine.limits import check_reason
from orchestrations.models import Approval
from orchestrations.services import InstanceNotFoundError, InvalidStateError, NotAllowedError, checked
from orchestrations.store.approvals import settle


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
    status = Approval.Status.APPROVED if approved else Approval.Status.REJECTED
    with transaction.atomic():
        settled = settle(
            approval.pk, approval.instance_id, status=status, by=actor.name, comment=comment, now=timezone.now()
        )
        if settled is None:
            current = Approval.objects.filter(pk=approval_id).values_list("status", flat=True).first()
            raise InvalidStateError(f"approval {approval_id} is already {current}")
        audit.record(
            actor,
            "approve" if approved else "reject",
            "approval",
            str(settled.pk),
            reason=comment,
            details={"instance_id": settled.instance_id, "name": settled.name},
        )
    return settled
