"""Settling an approval: a person's decision or its deadline passing, written with the one
ApprovalDecided message the orchestration waits for.

A decision and an expiry both go through here and take the instance row's lock, then the
approval row's, in that order, so that exactly one of them wins.
"""

from __future__ import annotations

from datetime import datetime

from orchestrations.engine import events as ev
from orchestrations.engine.serialization import dumps
from orchestrations.models import Approval, Message
from orchestrations.store import notices
from orchestrations.store.inbox import deliver, lock_instances


def settle(
    approval_id: int, instance_id: str, *, status: str, by: str | None, comment: str, now: datetime
) -> Approval | None:
    """In the caller's transaction: record ``status`` (approved, rejected or expired) on a
    pending approval and send the decision to its orchestration. None if it is no longer
    pending (or gone): somebody, or its deadline, settled it first."""
    lock_instances([instance_id])
    approval = Approval.objects.select_for_update().filter(pk=approval_id, status=Approval.Status.PENDING).first()
    if approval is None:
        return None
    approval.status = status
    approval.decided_by = by or ""
    approval.decided_at = now
    approval.comment = comment
    approval.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    decision = {
        "approved": status == Approval.Status.APPROVED,
        "by": by,
        "comment": comment,
        "decided_at": now.isoformat(),
        "timed_out": status == Approval.Status.EXPIRED,
    }
    event = ev.approval_decided(now, approval.task_id, dumps(decision))
    deliver([Message.for_event(approval.instance_id, event, execution_id=approval.execution_id)])
    notices.publish_on_commit(notices.APPROVAL, [str(approval.pk)])
    return approval
