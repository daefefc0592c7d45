"""Retention: finished instances go by themselves, ``PERDURA_RETENTION`` after they finished
(by status), with everything stored for them: history, inbox and set-aside messages, activity
work, approvals and their activities' invocations. The audit log's entries go after
``PERDURA_AUDIT_RETENTION_DAYS``.

The sweeper of every worker process calls ``prune`` after its wake-ups, for at most
SECONDS_PER_PASS. Each batch is one short transaction over at most ``TREE_BUDGET`` instances, picked oldest first through the
``completed_at`` index and locked with ``SKIP LOCKED`` on PostgreSQL, so sweepers of several
processes share the work instead of queueing behind each other, and no statement holds
locks for long; a backlog (a first start on a year of history) drains over many passes while
the workers go on with their work.

The rule for sub-orchestrations: a parent goes only with its sub-orchestrations (and theirs),
in one transaction. If any of them is still running or within its own retention, the parent
stays too, until that one is past it. So retention never leaves a sub-orchestration whose
parent's record is gone. A sub-orchestration past its own retention may go before its parent
does: the parent's history still holds what it was called with and what it answered. A tree
too large for one transaction stays until its sub-orchestrations have gone on their own.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from functions.models import Invocation
from functions.store.retention import delete_oldest
from orchestrations.access.models import AuditLogEntry
from orchestrations.models import Instance
from orchestrations.store import notices
from orchestrations.store.rows import delete_instances

#: Instances looked at, and at most purged, per transaction.
BATCH_SIZE = 500
#: Transactions per call: at most BATCH_SIZE * MAX_BATCHES instances go per sweep.
MAX_BATCHES = 4
#: Levels of sub-orchestrations followed below a candidate; a deeper tree is kept whole.
MAX_DEPTH = 8
#: Instances purged in one transaction at most, candidates and their sub-orchestrations.
TREE_BUDGET = 500
#: Sub-orchestrations looked at per batch at most; trees beyond stay for a later pass.
EXPLORE_LIMIT = 5000


#: Seconds between two looks for work past retention, in one process, while there is no backlog.
SECONDS_BETWEEN_PASSES = 10.0
_next_pass = 0.0


#: The most one sweep spends purging, so that a backlog does not hold up its heartbeat.
SECONDS_PER_PASS = 0.5


def prune_when_due() -> int:
    """``prune``, from the sweeper: every SECONDS_BETWEEN_PASSES, or each sweep while a backlog
    lasts; after a failure, not before SECONDS_BETWEEN_PASSES."""
    global _next_pass
    if time.monotonic() < _next_pass:
        return 0
    _next_pass = time.monotonic() + SECONDS_BETWEEN_PASSES
    purged = prune(seconds=SECONDS_PER_PASS)
    if _resume_after is not None:  # More to look at: on at the next sweep.
        _next_pass = 0.0
    return purged


def expired(now: datetime, rules: dict[str, float] | None = None) -> Q:
    """The instances past retention at ``now``."""
    rules = settings.PERDURA_RETENTION if rules is None else rules
    condition = Q(pk__in=[])
    for status, seconds in rules.items():
        condition |= Q(runtime_status=status, completed_at__lt=now - timedelta(seconds=seconds))
    return condition


def prune(
    now: datetime | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
    seconds: float | None = None,
) -> int:
    """Purge instances past retention, and audit entries past theirs; how many instances went.
    Candidates are read oldest first, a batch at a time, on from where the last call of this
    process stopped: instances kept for their sub-orchestrations do not hold the rest back."""
    global _resume_after
    now = now or timezone.now()
    prune_audit_log(now)
    if not settings.PERDURA_RETENTION:
        return 0
    purged = 0
    started = time.monotonic()
    for _ in range(max_batches):
        count, last = _purge_batch(now, batch_size, _resume_after)
        purged += count
        _resume_after = last
        if last is None:  # The end of the candidates: the next call starts from the oldest.
            break
        if seconds is not None and time.monotonic() - started >= seconds:
            break
    return purged


#: (completed_at, instance_id) of the last candidate looked at, or None to start from the oldest.
_resume_after: tuple[datetime, str] | None = None


def _purge_batch(
    now: datetime, batch_size: int, after: tuple[datetime, str] | None
) -> tuple[int, tuple[datetime, str] | None]:
    """One transaction: the next candidates, less the trees that must stay; (purged, where to
    go on from, None at the end)."""
    past = expired(now)
    with transaction.atomic():
        candidates = Instance.objects.filter(past).order_by("completed_at", "instance_id")
        if after is not None:
            completed_at, instance_id = after
            candidates = candidates.filter(
                Q(completed_at__gt=completed_at) | Q(completed_at=completed_at, instance_id__gt=instance_id)
            )
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        rows = list(candidates.values_list("instance_id", "completed_at")[:batch_size])
        if not rows:
            return 0, None
        doomed = _with_sub_orchestrations([instance_id for instance_id, _ in rows], past)
        if doomed:
            Invocation.objects.filter(instance_id__in=doomed).delete()
            delete_instances(doomed)
            notices.publish_on_commit(notices.INSTANCE, doomed)
    last_id, last_completed = rows[-1]
    return len(doomed), ((last_completed, last_id) if len(rows) == batch_size else None)


def _with_sub_orchestrations(ids: list[str], past: Q) -> list[str]:
    """Of ``ids`` (oldest first), the ones whose whole tree of sub-orchestrations is past
    retention, with those trees, up to TREE_BUDGET instances in all. A tree with one instance
    not past retention, or being changed right now, stays whole; so does one too large for the
    budget: its sub-orchestrations go first, on their own, until it fits."""
    children_of: dict[str, list[str]] = defaultdict(list)
    staying: set[str] = set()
    seen = set(ids)
    frontier = list(ids)
    explored = 0
    for _ in range(MAX_DEPTH):
        found = [
            pair
            for chunk in _chunks(frontier)
            for pair in Instance.objects.filter(parent_instance_id__in=chunk).values_list(
                "instance_id", "parent_instance_id"
            )
        ]
        if not found:
            frontier = []
            break
        eligible: set[str] = set()
        for chunk in _chunks([child for child, _ in found]):
            rows = Instance.objects.filter(past, instance_id__in=chunk)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            eligible.update(rows.values_list("instance_id", flat=True))
        frontier = []
        for child, parent in found:
            children_of[parent].append(child)
            if child not in eligible:
                staying.add(child)
            elif child not in seen:
                seen.add(child)
                frontier.append(child)
        explored += len(found)
        if explored > EXPLORE_LIMIT:
            break
    staying.update(frontier)  # Not explored (too deep, or too many): what lies below is unknown.
    doomed: list[str] = []
    taken: set[str] = set()
    for root in ids:
        tree = _tree(root, children_of, staying)
        if tree is None:
            continue
        new = [instance_id for instance_id in tree if instance_id not in taken]
        if len(taken) + len(new) <= TREE_BUDGET:
            taken.update(new)
            doomed += new
    return doomed


def _tree(root: str, children_of: dict[str, list[str]], staying: set[str]) -> list[str] | None:
    """``root`` and everything below it, or None if any of it stays."""
    tree, todo, seen = [], [root], {root}
    while todo:
        instance_id = todo.pop()
        if instance_id in staying:
            return None
        tree.append(instance_id)
        for child in children_of.get(instance_id, ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return tree


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    """Lists short enough for one ``IN (...)`` everywhere (SQLite's limit on parameters, say)."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def prune_audit_log(now: datetime, *, batch_size: int = 1000, max_batches: int = 5) -> int:
    days = settings.PERDURA_AUDIT_RETENTION_DAYS
    if not days:
        return 0
    cutoff = now - timedelta(days=days)
    return delete_oldest(AuditLogEntry, "created_at", cutoff, batch_size=batch_size, max_batches=max_batches)
