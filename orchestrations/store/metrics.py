"""Counters and histograms for ``/metrics``, summed in the database over every process.

Perdura's work is done by many processes: Celery's prefork children, on as many machines as
there are workers, plus the web processes. A Prometheus client's usual registry counts in one
process, and its multiprocess mode adds up the processes of one machine through files on that
machine's disk. Either way there would be one endpoint per process or per machine to find,
scrape and keep in Prometheus's configuration as workers come and go.

So each process counts in memory (a lock and a dictionary update per event) and a background
thread adds its counts to ``MetricTotal`` every FLUSH_SECONDS, one upsert per flush, in the
order of its keys so that two processes never wait on each other in a cycle. ``/metrics`` on
any web server then reads the totals of the whole deployment, and adds what it reads from the
tables themselves (instances by status, backlog per queue: see services/metrics.py). A process
that dies loses at most its last few seconds of counts; the totals never go down, so Prometheus's
rates stay right. Label values are bounded: function names the registry does not know count
as ``other``, and no label ever holds an instance id.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import logging
import os
import threading
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import Error as DatabaseError_
from django.db import connection, connections, transaction

from functions.registry import FunctionKind, UnknownFunctionError, registry
from orchestrations.models import MetricTotal

logger = logging.getLogger("perdura.metrics")

#: Every process writes its counts this often: often enough for a scrape (every 15 s or more),
#: rarely enough that flushing costs nothing measurable (a connection and one upsert).
FLUSH_SECONDS = 5.0
#: Rows per upsert statement.
BATCH = 200
#: Upper bounds of the histograms' buckets, in seconds: a millisecond to ten minutes, which
#: covers an activity's schedule-to-start, an episode's replay and a function's run.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0)
INF = float("inf")
#: The label value for a function name the registry does not know.
OTHER = "other"
MAX_LABEL_LENGTH = 100


@dataclass(frozen=True)
class Metric:
    name: str
    help: str
    labels: tuple[str, ...]
    histogram: bool = False


ORCHESTRATIONS_STARTED = Metric(
    "perdura_orchestrations_started_total", "Orchestration instances started.", ("orchestrator",)
)
ORCHESTRATIONS_FINISHED = Metric(
    "perdura_orchestrations_finished_total",
    "Orchestration instances that reached a final status (Completed, Failed, Terminated).",
    ("orchestrator", "status"),
)
EPISODE_SECONDS = Metric(
    "perdura_episode_duration_seconds",
    "Time to replay an orchestration episode and run its new code, before its checkpoint.",
    ("orchestrator",),
    histogram=True,
)
SCHEDULE_TO_START = Metric(
    "perdura_activity_schedule_to_start_seconds",
    "Time from an activity call being ready to run to a worker taking it.",
    ("activity",),
    histogram=True,
)
INVOCATION_SECONDS = Metric(
    "perdura_function_invocation_duration_seconds",
    "Function invocations (activities, HTTP, timer, queue and runs by hand) and how long they ran.",
    ("function", "trigger", "status"),
    histogram=True,
)
CHECKPOINT_RETRIES = Metric(
    "perdura_checkpoint_retries_total",
    "Failed episodes or entity batches: each is retried, until failing some times in a row gives it up.",
    ("kind",),
)
LEASE_EXPIRIES = Metric(
    "perdura_lease_expiries_total",
    "Work a worker found taken by another after its lease expired (a stalled or dead worker).",
    ("queue",),
)
MESSAGES_SET_ASIDE = Metric(
    "perdura_messages_set_aside_total",
    "Messages set aside unprocessed after their episode or batch failed again and again.",
    ("kind",),
)
API_REQUESTS = Metric(
    "perdura_http_api_requests_total",
    "Requests to the HTTP management API, by route template, method and status code.",
    ("route", "method", "code"),
)
METRICS = (
    ORCHESTRATIONS_STARTED,
    ORCHESTRATIONS_FINISHED,
    EPISODE_SECONDS,
    SCHEDULE_TO_START,
    INVOCATION_SECONDS,
    CHECKPOINT_RETRIES,
    LEASE_EXPIRIES,
    MESSAGES_SET_ASIDE,
    API_REQUESTS,
)
BY_NAME = {metric.name: metric for metric in METRICS}

_lock = threading.Lock()
#: (metric name, label values as JSON, series) -> amount not yet written.
_pending: Counter[tuple[str, str, str]] = Counter()
_wake = threading.Event()
_flusher: threading.Thread | None = None
_flusher_pid = 0
#: Set at exit: the flushing thread stops.
_exiting = False


def inc(metric: Metric, *labels: str, amount: float = 1.0) -> None:
    """Add ``amount`` to a counter."""
    if not settings.PERDURA_METRICS:
        return
    key = (metric.name, _label_key(labels), "")
    with _lock:
        _pending[key] += amount
        _start_flusher()


def observe(metric: Metric, seconds: float, *labels: str) -> None:
    """Count one observation of a histogram."""
    if not settings.PERDURA_METRICS:
        return
    label_key = _label_key(labels)
    bucket = bisect_left(BUCKETS, seconds)
    bound = repr(BUCKETS[bucket]) if bucket < len(BUCKETS) else "+Inf"
    with _lock:
        _pending[(metric.name, label_key, bound)] += 1
        _pending[(metric.name, label_key, "count")] += 1
        _pending[(metric.name, label_key, "sum")] += seconds
        _start_flusher()


def inc_on_commit(metric: Metric, *labels: str) -> None:
    """Add one to a counter once the current transaction commits; not at all if it rolls back."""
    transaction.on_commit(lambda: inc(metric, *labels))


def function_label(kind: FunctionKind, name: str) -> str:
    """``name`` as a label value: itself if a registered function of ``kind`` has it, else
    ``other`` (names come from rows and messages, which may outlive the code that wrote them)."""
    return name if registry.has(kind, name) else OTHER


def observe_invocation(function_name: str, trigger: str, status: str, seconds: float) -> None:
    """One finished invocation of a function (an activity, or an HTTP, timer or queue function)."""
    if not settings.PERDURA_METRICS:
        return
    try:
        registry.find(function_name)
    except UnknownFunctionError:
        function_name = OTHER
    observe(INVOCATION_SECONDS, seconds, function_name, trigger, status)


def flush() -> int:
    """Add this process's counts to the totals now; how many series were written. On a database
    error the counts are kept for the next flush."""
    global _pending
    with _lock:
        taken, _pending = _pending, Counter()
    if not taken:
        return 0
    try:
        _write(sorted(taken.items()))
    except DatabaseError_:
        logger.warning("could not write %d metric series; keeping them for the next flush", len(taken), exc_info=True)
        with _lock:
            _pending.update(taken)
        return 0
    return len(taken)


def totals() -> list[MetricTotal]:
    return list(MetricTotal.objects.order_by("name", "labels", "series"))


@functools.lru_cache(maxsize=4096)
def _label_key(labels: tuple[str, ...]) -> str:
    """The label values as stored: JSON, kept per distinct tuple (label values are bounded)."""
    return json.dumps([str(value)[:MAX_LABEL_LENGTH] for value in labels])


def _write(rows: list[tuple[tuple[str, str, str], float]]) -> None:
    table = connection.ops.quote_name(MetricTotal._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = [part for (name, labels, series), amount in chunk for part in (name, labels, series, amount)]
            cursor.execute(
                f"INSERT INTO {table} (name, labels, series, value) VALUES {values} "
                f"ON CONFLICT (name, labels, series) DO UPDATE SET value = {table}.value + excluded.value",
                params,
            )


def _start_flusher() -> None:
    """Called holding ``_lock``: start this process's flushing thread if it has none."""
    global _flusher, _flusher_pid
    if _flusher is None or _flusher_pid != os.getpid() or not _flusher.is_alive():
        _flusher = threading.Thread(target=_flush_forever, name="metrics-flusher", daemon=True)
        _flusher_pid = os.getpid()
        _flusher.start()


def _flush_forever() -> None:
    while not _exiting:
        _wake.wait(FLUSH_SECONDS)
        _wake.clear()
        if _exiting:  # The exit flush has the last counts; the database may be gone.
            return
        try:
            flush()
        except Exception:  # Never let the thread die: the next flush tries again.
            logger.exception("metrics flush failed")
        finally:
            # No idle connection held between flushes, as the invocation recorder does: a
            # server with many processes keeps its connection count down, and a test
            # database can be dropped.
            connections.close_all()


def _forget_in_child() -> None:
    """A forked child (a Celery prefork worker) starts with no counts of its own: what the parent
    had counted is the parent's to write."""
    global _pending, _flusher, _lock, _wake
    _lock = threading.Lock()
    _wake = threading.Event()
    _pending = Counter()
    _flusher = None


def _flush_at_exit() -> None:
    """The last counts, quietly: at exit the database (a test run's, say) and even the log
    stream may be gone."""
    global _pending, _exiting
    _exiting = True
    with _lock:
        taken, _pending = _pending, Counter()
    if taken:
        with contextlib.suppress(Exception):
            _write(sorted(taken.items()))


def stop() -> None:
    """Write the last counts and stop the flushing thread, so that no connection of it is open
    afterwards (a test run stops it before dropping its database)."""
    global _exiting
    _exiting = True
    _wake.set()
    if _flusher is not None and _flusher.is_alive():
        _flusher.join(timeout=10)
    _exiting = False
    with contextlib.suppress(Exception):
        flush()
    _exiting = True
    connections.close_all()


def flush_before_exit(**_: object) -> None:
    """For processes that end without running ``atexit`` (Celery's prefork children leave with
    ``os._exit``): connected to Celery's ``worker_process_shutdown``."""
    _flush_at_exit()


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(_flush_at_exit)
