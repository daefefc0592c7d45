"""Read-only views of the engine's state for the console: instance lists with any indexed sort,
what an instance is waiting for, its timeline, queue depths and throughput.

Nothing here changes anything; the commands live in services.py.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMinute
from django.utils import timezone

from entities.models import Entity
from functions.registry import FunctionKind, UnknownFunctionError, registry
from orchestrations.engine import OrchestrationStatus, execute
from orchestrations.engine import events as ev
from orchestrations.engine.events import EventType
from orchestrations.engine.http import HTTP_ACTIVITY_NAME
from orchestrations.engine.tasks import Task, TimerTask
from orchestrations.models import Approval, HistoryRow, Instance, Message, WorkerHeartbeat, WorkItem
from orchestrations.services import paging
from orchestrations.services.queries import query_filter

STATUSES = [status.value for status in OrchestrationStatus]

# Listing instances.

#: Each sort is a list of (field, descending); the last field makes the order total. Every
#: sort runs on an index: (-created_at, instance_id), (name, -created_at),
#: (runtime_status, -created_at) or the primary key.
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "-created": (("created_at", True), ("instance_id", False)),
    "created": (("created_at", False), ("instance_id", True)),
    "name": (("name", False), ("created_at", True), ("instance_id", False)),
    "-name": (("name", True), ("created_at", False), ("instance_id", True)),
    "status": (("runtime_status", False), ("created_at", True), ("instance_id", False)),
    "-status": (("runtime_status", True), ("created_at", False), ("instance_id", True)),
    "id": (("instance_id", False),),
    "-id": (("instance_id", True),),
}
DEFAULT_SORT = "-created"
CREATED_PRESETS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


class BadFilterError(ValueError):
    """A filter or paging token from a URL that cannot be used; the message says why."""


@dataclass(frozen=True)
class InstanceFilter:
    """The list page's filter, as it appears in the URL (so a view can be shared)."""

    statuses: tuple[str, ...] = ()
    name: str = ""
    instance_id_prefix: str = ""
    created: str = ""  # "", a preset ("1h", "24h", "7d") or "custom"
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom_status: str = ""
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> tuple[InstanceFilter, list[str]]:
        """Read the filter from a QueryDict; return it with what had to be ignored and why."""
        errors: list[str] = []
        statuses = tuple(s for s in _getlist(query, "status") if s)
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            errors.append(f"unknown status {', '.join(unknown)}")
            statuses = tuple(s for s in statuses if s in STATUSES)
        sort = query.get("sort") or DEFAULT_SORT
        if sort not in SORTS:
            errors.append(f"unknown sort {sort!r}")
            sort = DEFAULT_SORT
        created = query.get("created") or ""
        created_from = created_to = None
        if created == "custom":
            created_from = _parse_datetime(query.get("from"), "from", errors)
            created_to = _parse_datetime(query.get("to"), "to", errors)
        elif created and created not in CREATED_PRESETS:
            errors.append(f"unknown created-time preset {created!r}")
            created = ""
        return (
            cls(
                statuses=statuses,
                name=(query.get("name") or "").strip(),
                instance_id_prefix=query.get("prefix") or "",
                created=created,
                created_from=created_from,
                created_to=created_to,
                custom_status=(query.get("custom_status") or "").strip(),
                sort=sort,
            ),
            errors,
        )

    def to_query(self) -> list[tuple[str, str]]:
        """The filter as URL parameters (empty ones left out)."""
        params = [("status", status) for status in self.statuses]
        params += [
            (key, value)
            for key, value in (
                ("name", self.name),
                ("prefix", self.instance_id_prefix),
                ("created", self.created),
                ("custom_status", self.custom_status),
            )
            if value
        ]
        if self.created == "custom":
            params += [
                (key, _datetime_local(value))
                for key, value in (("from", self.created_from), ("to", self.created_to))
                if value
            ]
        if self.sort != DEFAULT_SORT:
            params.append(("sort", self.sort))
        return params

    @property
    def is_empty(self) -> bool:
        return self == InstanceFilter(sort=self.sort)

    def without_statuses(self) -> InstanceFilter:
        return replace(self, statuses=())

    def created_range(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        if self.created in CREATED_PRESETS:
            return now - CREATED_PRESETS[self.created], None
        return self.created_from, self.created_to

    def queryset(self, now: datetime | None = None) -> QuerySet[Instance]:
        created_from, created_to = self.created_range(now or timezone.now())
        return query_filter(
            self.statuses, self.name, created_from, created_to, self.instance_id_prefix, self.custom_status
        )


def _getlist(query: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(query, "getlist", None)
    if getlist is not None:
        return getlist(key)
    value = query.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _parse_datetime(raw: str | None, what: str, errors: list[str]) -> datetime | None:
    if not raw:
        return None
    try:
        return paging.parse_utc(raw, naive_zone=timezone.get_current_timezone())
    except ValueError:
        errors.append(f"the {what} time {raw!r} is not a date and time this server can store")
        return None


def _datetime_local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class ListPage:
    instances: list[Instance]
    next_token: str | None
    previous_token: str | None


def list_instances(
    instance_filter: InstanceFilter, *, page_size: int = 50, after: str | None = None, before: str | None = None
) -> ListPage:
    """One page of instances in the filter's sort order. ``after`` and ``before`` are tokens
    naming the last (first) row of a neighbouring page: keyset paging, as fast on the
    thousandth page as on the first."""
    keys = SORTS[instance_filter.sort]
    queryset = instance_filter.queryset()
    if before:
        reverse = tuple((name, not descending) for name, descending in keys)
        queryset = queryset.filter(_beyond(reverse, decode_token(before, keys)))
        rows = list(queryset.order_by(*_ordering(reverse))[: page_size + 1])
        more_before = len(rows) > page_size
        rows = list(reversed(rows[:page_size]))
        previous_token = encode_token(rows[0], keys) if more_before and rows else None
        return ListPage(rows, encode_token(rows[-1], keys) if rows else None, previous_token)
    if after:
        queryset = queryset.filter(_beyond(keys, decode_token(after, keys)))
    rows = list(queryset.order_by(*_ordering(keys))[: page_size + 1])
    next_token = encode_token(rows[page_size - 1], keys) if len(rows) > page_size else None
    rows = rows[:page_size]
    return ListPage(rows, next_token, encode_token(rows[0], keys) if after and rows else None)


def _ordering(keys: Iterable[tuple[str, bool]]) -> list[str]:
    return [f"-{name}" if descending else name for name, descending in keys]


def _beyond(keys: tuple[tuple[str, bool], ...], values: list[Any]) -> Q:
    """Rows that come after ``values`` in the order ``keys``."""
    condition = Q(pk__in=[])
    for position, (name, descending) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[position]})
        for earlier, value in zip(keys[:position], values[:position], strict=True):
            step &= Q(**{earlier[0]: value})
        condition |= step
    return condition


def encode_token(instance: Instance, keys: Iterable[tuple[str, bool]]) -> str:
    return paging.encode([getattr(instance, name) for name, _ in keys])


def decode_token(token: str, keys: tuple[tuple[str, bool], ...]) -> list[Any]:
    try:
        return paging.decode(token, [datetime if name == "created_at" else str for name, _ in keys])
    except paging.BadTokenError:
        raise BadFilterError("the page link is not one this server made (or the sort changed)") from None


def count_capped(queryset: QuerySet, cap: int) -> int:
    """Count at most ``cap + 1`` rows, so counts over millions of rows stay cheap."""
    return queryset.order_by()[: cap + 1].count()


def status_counts(instance_filter: InstanceFilter, cap: int) -> dict[str, int]:
    """How many instances of each status match the filter (statuses aside), each up to ``cap + 1``."""
    base = instance_filter.without_statuses().queryset()
    return {status: count_capped(base.filter(runtime_status=status), cap) for status in STATUSES}


# One instance.


@dataclass(frozen=True)
class PendingCall:
    """A durable call the instance has made and not yet had answered."""

    kind: str  # activity, timer, sub-orchestration, entity, lock, approval, http
    task_id: int
    name: str
    since: datetime
    target: str = ""  # the child instance or entity it concerns
    due: datetime | None = None  # when a timer fires
    cancelled: bool = False


@dataclass(frozen=True)
class Waiting:
    """What an unfinished instance is waiting for now."""

    events: list[str] | None  # None when the orchestrator could not be replayed here
    calls: list[PendingCall]
    approvals: list[Approval]
    locks_held: list[str]
    inbox: int  # messages delivered but not yet processed

    @property
    def is_empty(self) -> bool:
        return not (self.events or self.calls or self.approvals or self.locks_held or self.inbox)


_SCHEDULED_KIND = {
    EventType.TASK_SCHEDULED: "activity",
    EventType.TIMER_CREATED: "timer",
    EventType.SUB_ORCHESTRATION_CREATED: "sub-orchestration",
    EventType.ENTITY_OPERATION_CALLED: "entity",
    EventType.ENTITY_LOCK_REQUESTED: "lock",
    EventType.APPROVAL_REQUESTED: "approval",
}
_ANSWERS = {
    EventType.TASK_COMPLETED: "completed",
    EventType.TASK_FAILED: "failed",
    EventType.TIMER_FIRED: "completed",
    EventType.SUB_ORCHESTRATION_COMPLETED: "completed",
    EventType.SUB_ORCHESTRATION_FAILED: "failed",
    EventType.ENTITY_OPERATION_COMPLETED: "completed",
    EventType.ENTITY_OPERATION_FAILED: "failed",
    EventType.ENTITY_LOCK_GRANTED: "completed",
    EventType.APPROVAL_DECIDED: "completed",
}


def waiting_for(instance: Instance, rows: list[HistoryRow] | None = None) -> Waiting:
    """Open calls from the history; event names by replaying the orchestrator (which also
    tells a cancelled timer from one still waited for); approvals and entity locks from
    their tables."""
    if instance.is_terminal:
        return Waiting([], [], [], [], 0)
    rows = rows if rows is not None else list(HistoryRow.objects.filter(instance_id=instance.pk).order_by("sequence"))
    replayed = replay_waits(instance, rows)
    calls = [
        replace(call, cancelled=True)
        if replayed and call.kind == "timer" and call.task_id in replayed.cancelled_timers
        else call
        for call in _open_calls(rows)
    ]
    approvals = list(
        Approval.objects.filter(
            instance_id=instance.pk, execution_id=instance.execution_id, status=Approval.Status.PENDING
        ).order_by("requested_at")
    )
    locks = list(Entity.objects.filter(lock_owner=instance.pk).order_by("pk").values_list("pk", flat=True))
    inbox = Message.objects.filter(instance_id=instance.pk).count()
    return Waiting(replayed.events if replayed else None, calls, approvals, locks, inbox)


def _open_calls(rows: Iterable[HistoryRow]) -> list[PendingCall]:
    open_calls: dict[int, PendingCall] = {}
    for row in rows:
        kind = _SCHEDULED_KIND.get(row.event_type)
        if kind is not None and row.task_id is not None:
            open_calls[row.task_id] = _pending_call(kind, row)
        elif row.event_type in _ANSWERS:
            open_calls.pop(row.task_id, None)
    return sorted(open_calls.values(), key=lambda call: call.task_id)


def _pending_call(kind: str, row: HistoryRow) -> PendingCall:
    details = row.details or {}
    name = row.name or ""
    if kind == "activity" and name == HTTP_ACTIVITY_NAME:
        kind = "http"
    due = None
    if kind == "timer" and details.get("fire_at"):
        due = datetime.fromisoformat(details["fire_at"])
        name = "timer"
    target = details.get("instance_id") or details.get("entity_id") or ", ".join(details.get("entity_ids") or [])
    if kind == "approval":
        name = details.get("title") or name
    return PendingCall(kind, row.task_id, name, row.timestamp, target or "", due)


@dataclass(frozen=True)
class ReplayedWaits:
    events: list[str]
    cancelled_timers: frozenset[int]


class _ObservedContext:
    """The orchestrator's context, passed through, noting the events and timers it asks for."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self.event_tasks: list[tuple[str, Task]] = []
        self.timer_tasks: list[TimerTask] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def wait_for_external_event(self, name: str) -> Task:
        task = self._context.wait_for_external_event(name)
        self.event_tasks.append((name, task))
        return task

    def create_timer(self, fire_at: Any) -> TimerTask:
        task = self._context.create_timer(fire_at)
        self.timer_tasks.append(task)
        return task


#: Replaying costs the orchestrator's code once per history event: not for huge histories.
REPLAY_EVENT_LIMIT = 20_000
_replay_cache: OrderedDict[tuple, ReplayedWaits | None] = OrderedDict()
_replay_cache_lock = threading.Lock()


def replay_waits(instance: Instance, rows: list[HistoryRow]) -> ReplayedWaits | None:
    """Replay the orchestrator over its history (no I/O: the engine is pure) to learn which
    external events it waits for, as nothing in history records a wait. None if the
    orchestrator is not registered in this process or cannot be replayed."""
    key = (instance.pk, instance.execution_id, len(rows), rows[-1].sequence if rows else -1, instance.updated_at)
    with _replay_cache_lock:
        if key in _replay_cache:
            _replay_cache.move_to_end(key)
            return _replay_cache[key]
    result = _replay(instance, rows)
    with _replay_cache_lock:
        _replay_cache[key] = result
        while len(_replay_cache) > 256:
            _replay_cache.popitem(last=False)
    return result


def _replay(instance: Instance, rows: list[HistoryRow]) -> ReplayedWaits | None:
    if not rows or len(rows) > REPLAY_EVENT_LIMIT:
        return None
    try:
        orchestrator = registry.get(FunctionKind.ORCHESTRATOR, instance.name).func
    except UnknownFunctionError:
        return None
    observed: list[_ObservedContext] = []

    def observing(context: Any) -> Any:
        observed.append(_ObservedContext(context))
        return orchestrator(observed[-1])

    try:
        execute(
            observing,
            [row.to_engine() for row in rows],
            [ev.orchestrator_started(timezone.now())],
            instance_id=instance.pk,
            http_poll_seconds=settings.PERDURA_HTTP_POLL_SECONDS,
        )
    except Exception:  # Orchestrator code is the user's; a replay that breaks shows nothing.
        return None
    if not observed:
        return None
    context = observed[-1]
    names: list[str] = []
    for name, task in context.event_tasks:
        if not task.is_completed and name not in names:
            names.append(name)
    cancelled = frozenset(task.task_id for task in context.timer_tasks if task.is_cancelled)
    return ReplayedWaits(names, cancelled)


@dataclass
class Span:
    """A bar of the timeline: one durable call from when it was made until it was answered."""

    kind: str
    label: str
    task_id: int
    start: datetime
    end: datetime | None
    outcome: str  # completed, failed, open
    target: str = ""
    left: float = 0.0
    width: float = 0.0


@dataclass
class Timeline:
    spans: list[Span]
    start: datetime
    end: datetime
    total_calls: int
    ticks: list[tuple[float, timedelta]] = field(default_factory=list)

    @property
    def is_truncated(self) -> bool:
        return self.total_calls > len(self.spans)


TIMELINE_SPAN_LIMIT = 300


def timeline(instance: Instance, rows: Iterable[HistoryRow], now: datetime | None = None) -> Timeline:
    """The instance's durable calls as bars on one time axis, from its start to its end (or now)."""
    now = now or timezone.now()
    spans: dict[int, Span] = {}
    order: list[int] = []
    for row in rows:
        kind = _SCHEDULED_KIND.get(row.event_type)
        if kind is not None and row.task_id is not None:
            call = _pending_call(kind, row)
            if row.task_id not in spans:
                order.append(row.task_id)
            spans[row.task_id] = Span(call.kind, call.name, row.task_id, row.timestamp, None, "open", call.target)
        elif row.event_type in _ANSWERS and row.task_id in spans:
            span = spans[row.task_id]
            span.end, span.outcome = row.timestamp, _ANSWERS[row.event_type]
    start = instance.created_at
    end = instance.completed_at or now
    chosen = [spans[task_id] for task_id in order[:TIMELINE_SPAN_LIMIT]]
    if chosen:
        start = min(start, *(span.start for span in chosen))
        end = max(end, *(span.end or end for span in chosen))
    total = max((end - start).total_seconds(), 0.001)
    for span in chosen:
        span_end = span.end or end
        span.left = round(100 * (span.start - start).total_seconds() / total, 3)
        span.width = round(max(100 * (span_end - span.start).total_seconds() / total, 0.4), 3)
        span.width = min(span.width, round(100 - span.left, 3)) or 0.4
    ticks = [(percent, timedelta(seconds=total * percent / 100)) for percent in (0, 25, 50, 75, 100)]
    return Timeline(chosen, start, end, len(order), ticks)


# The engine as a whole.


@dataclass(frozen=True)
class Minute:
    at: datetime
    started: int = 0
    completed: int = 0
    failed: int = 0


def throughput(now: datetime | None = None, minutes: int = 60) -> list[Minute]:
    """Instances started, completed and failed per minute over the last ``minutes``."""
    now = now or timezone.now()
    first = (now - timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
    started = dict(
        Instance.objects.filter(created_at__gte=first)
        .annotate(minute=TruncMinute("created_at"))
        .values("minute")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("minute", "count")
    )
    finished: dict[tuple[datetime, str], int] = {
        (minute, status): count
        for minute, status, count in Instance.objects.filter(
            completed_at__gte=first, runtime_status__in=["Completed", "Failed"]
        )
        .annotate(minute=TruncMinute("completed_at"))
        .values("minute", "runtime_status")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("minute", "runtime_status", "count")
    }
    return [
        Minute(
            at,
            started.get(at, 0),
            finished.get((at, "Completed"), 0),
            finished.get((at, "Failed"), 0),
        )
        for at in (first + timedelta(minutes=offset) for offset in range(minutes))
    ]


def counts_by_status() -> dict[str, int]:
    counts = dict(
        Instance.objects.values("runtime_status")
        .annotate(count=Count("pk"))
        .order_by()
        .values_list("runtime_status", "count")
    )
    return {status: counts.get(status, 0) for status in STATUSES}


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int
    in_progress: int
    scheduled: int  # due later: timers, retries, scheduled signals, activities waiting for a concurrency slot


def queue_depths(now: datetime | None = None) -> list[QueueDepth]:
    now = now or timezone.now()
    leased = Q(lease_expires_at__gt=now)
    depths = []
    for queue, model, ready_field in (
        ("orchestrations", Instance, "next_message_at"),
        ("activities", WorkItem, "visible_at"),
        ("entities", Entity, "next_message_at"),
    ):
        rows = model.objects.order_by()
        depths.append(
            QueueDepth(
                queue,
                ready=rows.filter(**{f"{ready_field}__lte": now}).exclude(leased).count(),
                in_progress=rows.filter(leased).count(),
                scheduled=rows.filter(**{f"{ready_field}__gt": now}).count(),
            )
        )
    return depths


@dataclass(frozen=True)
class WorkerState:
    heartbeat: WorkerHeartbeat
    is_alive: bool


def workers(now: datetime | None = None) -> list[WorkerState]:
    now = now or timezone.now()
    cutoff = WorkerHeartbeat.alive_since(now)
    return [WorkerState(heartbeat, heartbeat.last_seen >= cutoff) for heartbeat in WorkerHeartbeat.objects.all()]
