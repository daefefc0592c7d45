"""What ``/metrics`` serves, in Prometheus's text format (prometheus-client writes it).

Two sources, both the whole deployment's, so one scrape of any web server sees everything:

- counters and histograms that every process adds to the database every few seconds
  (orchestrations/store/metrics.py);
- gauges read from the tables at scrape time: instances by orchestrator and status, each
  queue's backlog and the age of its oldest ready item (what an autoscaler scales on),
  timers due and how late, live workers, their slots and the busy ones, set-aside messages.

The backlog queries read only rows with work waiting, through the index workers claim on;
instances by status are counted from the (name, status) index. Label values are bounded:
orchestrator names the registry does not know are counted under ``other``, trigger queues
are the ones a registered function reads (others under ``other``), and no label holds an
instance id.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from functions.models import TimerSchedule
from functions.registry import FunctionKind, registry
from orchestrations.engine.events import EventType
from orchestrations.engine.status import OrchestrationStatus
from orchestrations.models import Instance, Message, SetAsideMessage, WorkerHeartbeat
from orchestrations.store import metrics as store
from orchestrations.store.backlog import backlogs
from orchestrations.store.metrics import BUCKETS, OTHER

#: prometheus-client's content type for the text format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition() -> bytes:
    """The text a scrape gets. This process's own counts are written first, so that they show."""
    store.flush()
    collectors = CollectorRegistry(auto_describe=False)
    collectors.register(_Collector())
    return generate_latest(collectors)


class _Collector:
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from _totals()
        yield from _instances()
        yield from _queues(now)
        yield from _timers(now)
        yield from _workers(now)
        set_aside = GaugeMetricFamily(
            "perdura_set_aside_messages", "Messages set aside unprocessed, kept for people to look at."
        )
        set_aside.add_metric([], SetAsideMessage.objects.count())
        yield set_aside


def _totals() -> Iterator[Metric]:
    rows: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for row in store.totals():
        rows[row.name][row.labels][row.series] = row.value
    for metric in store.METRICS:
        # Rows written by a version whose labels differed are left out, not a failed scrape.
        series = [
            (values, label_values)
            for labels, values in rows.get(metric.name, {}).items()
            if len(label_values := json.loads(labels)) == len(metric.labels)
        ]
        if metric.histogram:
            family = HistogramMetricFamily(metric.name, metric.help, labels=metric.labels)
            for values, label_values in series:
                family.add_metric(label_values, _cumulative(values), values.get("sum", 0.0))
        else:
            # The family's name leaves out _total: prometheus-client adds it.
            family = CounterMetricFamily(metric.name.removesuffix("_total"), metric.help, labels=metric.labels)
            for values, label_values in series:
                family.add_metric(label_values, values.get("", 0.0))
        yield family


def _cumulative(values: dict[str, float]) -> list[tuple[str, float]]:
    buckets, running = [], 0.0
    for bound in (*(repr(b) for b in BUCKETS), "+Inf"):
        running += values.get(bound, 0.0)
        buckets.append((bound, running))
    return buckets


def _instances() -> Iterator[Metric]:
    known = set(registry.names(FunctionKind.ORCHESTRATOR))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    grouped = Instance.objects.order_by().values_list("name", "runtime_status").annotate(count=Count("pk"))
    for name, status, count in grouped:
        counts[(name if name in known else OTHER, status)] += count
    family = GaugeMetricFamily(
        "perdura_orchestrations",
        "Orchestration instances by orchestrator and status.",
        labels=["orchestrator", "status"],
    )
    for name in sorted(known):
        for status in OrchestrationStatus:
            family.add_metric([name, str(status)], counts.pop((name, str(status)), 0))
    for (name, status), count in sorted(counts.items()):
        family.add_metric([name, status], count)
    yield family


def _queues(now: datetime) -> Iterator[Metric]:
    """Backlog per queue: ready now, its oldest item's wait, taken by a worker, due later."""
    ready = GaugeMetricFamily(
        "perdura_queue_ready", "Items ready to run and not taken by a worker.", labels=["queue", "kind"]
    )
    oldest = GaugeMetricFamily(
        "perdura_queue_oldest_ready_age_seconds",
        "How long the oldest ready item has been waiting (0 when none is).",
        labels=["queue", "kind"],
    )
    taken = GaugeMetricFamily(
        "perdura_queue_in_progress",
        "Items a worker holds now: the busy slots (for trigger queues, messages dequeued and not yet back).",
        labels=["queue", "kind"],
    )
    later = GaugeMetricFamily(
        "perdura_queue_scheduled", "Items due later (timers, retries, visibility timeouts).", labels=["queue", "kind"]
    )
    for backlog in backlogs(now):
        labels = [backlog.queue, backlog.kind]
        ready.add_metric(labels, backlog.ready)
        oldest.add_metric(labels, backlog.oldest_age(now))
        taken.add_metric(labels, backlog.in_progress)
        later.add_metric(labels, backlog.scheduled)
    yield from (ready, oldest, taken, later)


def _timers(now: datetime) -> Iterator[Metric]:
    due = GaugeMetricFamily(
        "perdura_timers_due", "Timers whose time has come and that have not fired yet.", labels=["kind"]
    )
    late = GaugeMetricFamily(
        "perdura_timers_lateness_seconds",
        "How late the most overdue of those timers is (0 when none is).",
        labels=["kind"],
    )
    durable = Message.objects.order_by().filter(event_type=EventType.TIMER_FIRED, visible_at__lte=now)
    figures = durable.aggregate(count=Count("pk"), first=Min("visible_at"))
    due.add_metric(["durable"], figures["count"])
    late.add_metric(["durable"], _age(now, figures["first"]))
    schedules = TimerSchedule.objects.order_by().filter(is_paused=False, next_due__lte=now)
    figures = schedules.aggregate(count=Count("pk"), first=Min("next_due"))
    due.add_metric(["trigger"], figures["count"])
    late.add_metric(["trigger"], _age(now, figures["first"]))
    yield from (due, late)


def _workers(now: datetime) -> Iterator[Metric]:
    alive = WorkerHeartbeat.objects.filter(last_seen__gte=WorkerHeartbeat.alive_since(now))
    workers = GaugeMetricFamily("perdura_workers", "Worker processes alive (heartbeat seen).", labels=["mode"])
    slots = GaugeMetricFamily(
        "perdura_worker_slots", "Work the live workers can run at once, per queue.", labels=["queue"]
    )
    by_mode: dict[str, int] = defaultdict(int)
    by_queue: dict[str, int] = defaultdict(int)
    for mode, queues in alive.values_list("mode", "queues"):
        by_mode[mode] += 1
        for queue, count in (queues or {}).items():
            if isinstance(count, int):
                by_queue[str(queue)] += count
    for mode, count in sorted(by_mode.items()):
        workers.add_metric([mode], count)
    for queue, count in sorted(by_queue.items()):
        slots.add_metric([queue], count)
    yield from (workers, slots)


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0
