"""W5 Console scale: the queries behind the console's instance list, with N instances stored.

The instances are written straight into the table by one INSERT ... SELECT over a number
series (the engine would take hours to make a million), with a realistic mix: ten
orchestrator names, 85% Completed, 5% Failed, 5% Running, 3% Pending, 2% Terminated, one
every two seconds going back in time. The table is then vacuumed and analyzed, as autovacuum
does on its own within a minute of a load that size (inserts alone trigger it since
PostgreSQL 13): the visibility map it sets is what lets the status counts read indexes only.

Each figure is a console page requested in this process through Django's test client, as a
logged-in admin, timed with ``perf_counter`` around the request: the server's whole work
(middleware, the queries, rendering the template) without the network. The figure is the
median of the repetitions; the details keep the first (coldest) one.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from time import perf_counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from bench.measure import Figure, chunks
from orchestrations.engine import events as ev
from orchestrations.engine.serialization import dumps
from orchestrations.models import HistoryRow, Instance

WORKLOAD = "W5"
PAGE_SIZE = 50
TARGET_LIST_MS = 150.0
TARGET_OPEN_MS = 1000.0
NAMES = [
    "order_pipeline",
    "payment_saga",
    "shipment_tracking",
    "invoice_batch",
    "user_onboarding",
    "inventory_sync",
    "report_export",
    "email_campaign",
    "refund_review",
    "data_cleanup",
]
#: The name the name filter looks for: one tenth of the rows carry it.
FILTERED_NAME = "payment_saga"
HISTORY_INSTANCE_ID = "w5-history"

# The status of row n, from n % 100: the mix the module docstring describes. The SQL goes
# through a cursor with parameters, where a literal % is written %%.
STATUS_CASE = (
    "CASE WHEN n %% 100 < 85 THEN 'Completed' WHEN n %% 100 < 90 THEN 'Failed' "
    "WHEN n %% 100 < 95 THEN 'Running' WHEN n %% 100 < 98 THEN 'Pending' ELSE 'Terminated' END"
)
NAME_CASE = "CASE n %% 10 " + " ".join(f"WHEN {index} THEN '{name}'" for index, name in enumerate(NAMES)) + " END"
FAILURE = '{"error_type": "ValueError", "message": "out of stock", "stack_trace": null}'
COLUMNS = (
    "instance_id, name, version, execution_id, runtime_status, input, output, failure, "
    "created_at, updated_at, completed_at, history_length, parent_execution_id"
)


def run(rows: int, *, history_events: int, repetitions: int) -> list[Figure]:
    started = perf_counter()
    load_instances(rows)
    load_history(history_events)
    analyze()
    load_seconds = round(perf_counter() - started, 3)
    stored = Instance.objects.count()
    title = f"Console scale, {stored:,} instances"
    browser = _logged_in_client()
    instance_page = reverse("instance", args=[HISTORY_INSTANCE_ID])
    queries: list[tuple[str, Callable[[], Any], float]] = [
        ("list page, first page (ms)", lambda: _get(browser, reverse("instances")), TARGET_LIST_MS),
        (
            "list page, status filter Failed (ms)",
            lambda: _get(browser, reverse("instances"), {"status": "Failed"}),
            TARGET_LIST_MS,
        ),
        (
            f"list page, name filter {FILTERED_NAME} (ms)",
            lambda: _get(browser, reverse("instances"), {"name": FILTERED_NAME}),
            TARGET_LIST_MS,
        ),
        (f"instance page, {history_events:,} events (ms)", lambda: _get(browser, instance_page), TARGET_OPEN_MS),
    ]
    figures = []
    for metric, query, target in queries:
        timings, result = time_repeatedly(query, repetitions)
        details = {
            "stored_instances": stored,
            "repetitions": repetitions,
            "first_ms": round(timings[0], 3),
            "min_ms": round(min(timings), 3),
            "max_ms": round(max(timings), 3),
            "rows_returned": _rows_returned(result),
            "load_seconds": load_seconds,
        }
        figures.append(Figure(WORKLOAD, title, metric, statistics.median(timings), "lower", target, details))
    return figures


def time_repeatedly(query: Callable[[], Any], repetitions: int) -> tuple[list[float], Any]:
    timings = []
    result = None
    for _ in range(repetitions):
        started = perf_counter()
        result = query()
        timings.append((perf_counter() - started) * 1000)
    return timings, result


def _logged_in_client() -> Client:
    user, _ = get_user_model().objects.get_or_create(
        username="w5-bench", defaults={"is_staff": True, "is_superuser": True}
    )
    browser = Client()
    browser.force_login(user)
    return browser


def _get(browser: Client, path: str, query: dict[str, str] | None = None) -> HttpResponse:
    response = browser.get(path, query or {})
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return response


def _rows_returned(response: HttpResponse) -> int:
    """How many instance rows or history events the page shows."""
    page = response.content.decode()
    return len(re.findall(r'id="instance-[^"]*-row"', page)) or page.count("<tr") - 1


def load_instances(rows: int) -> None:
    base = datetime.now(UTC).replace(microsecond=0)
    table = Instance._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                INSERT INTO {table} ({COLUMNS})
                SELECT 'w5-' || lpad(n::text, 8, '0'), name, '', lpad(to_hex(n), 32, '0'), status,
                       '{{"order": ' || n || '}}',
                       CASE WHEN status = 'Completed' THEN '{{"shipped": true}}' END,
                       CASE WHEN status = 'Failed' THEN %s::jsonb END,
                       %s::timestamptz - n * interval '2 seconds',
                       %s::timestamptz - n * interval '2 seconds' + interval '3 seconds',
                       CASE WHEN status IN ('Completed', 'Failed', 'Terminated')
                            THEN %s::timestamptz - n * interval '2 seconds' + interval '3 seconds' END,
                       12, ''
                FROM (SELECT n, {STATUS_CASE} AS status, {NAME_CASE} AS name
                      FROM generate_series(1, %s) AS n) AS series
                """,
                [FAILURE, base, base, base, rows],
            )
        else:
            # Django keeps SQLite datetimes as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'.
            created = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, printf('%%+d seconds', -2 * n))"
            finished = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, printf('%%+d seconds', 3 - 2 * n))"
            text_base = base.strftime("%Y-%m-%d %H:%M:%S")
            cursor.execute(
                f"""
                WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < %s)
                INSERT INTO {table} ({COLUMNS})
                SELECT 'w5-' || printf('%%08d', n), name, '', printf('%%032x', n), status,
                       '{{"order": ' || n || '}}',
                       CASE WHEN status = 'Completed' THEN '{{"shipped": true}}' END,
                       CASE WHEN status = 'Failed' THEN %s END,
                       {created}, {finished},
                       CASE WHEN status IN ('Completed', 'Failed', 'Terminated') THEN {finished} END,
                       12, ''
                FROM (SELECT n, {STATUS_CASE} AS status, {NAME_CASE} AS name
                      FROM numbers) AS series
                """,
                [rows, FAILURE, text_base, text_base, text_base],
            )


def load_history(events: int) -> None:
    """One finished instance with ``events`` history rows: its start, then activity calls
    scheduled and completed in turn, then its completion."""
    now = datetime.now(UTC)
    start = now - timedelta(seconds=events)
    execution_id = "0" * 32
    history = [ev.execution_started(start, "order_pipeline", dumps({"order": 1}))]
    task_id = 0
    while len(history) < events - 1:
        at = start + timedelta(seconds=len(history))
        history.append(ev.task_scheduled(at, task_id, "charge", dumps({"order": 1, "step": task_id})))
        history.append(ev.task_completed(at, task_id, dumps({"receipt": f"r-{task_id}"})))
        task_id += 1
    history = history[: events - 1]
    history.append(ev.execution_completed(now, "Completed", dumps("done")))
    Instance.objects.create(
        instance_id=HISTORY_INSTANCE_ID,
        name="order_pipeline",
        execution_id=execution_id,
        runtime_status="Completed",
        input=dumps({"order": 1}),
        output=dumps("done"),
        created_at=start,
        updated_at=now,
        completed_at=now,
        history_length=len(history),
    )
    rows = [
        HistoryRow.from_engine(HISTORY_INSTANCE_ID, execution_id, sequence, event)
        for sequence, event in enumerate(history)
    ]
    for batch in chunks(rows, 1000):
        HistoryRow.objects.bulk_create(batch)


def analyze() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # VACUUM cannot run inside a transaction (a test's, say): ANALYZE alone there.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            cursor.execute(f"{command} {Instance._meta.db_table}, {HistoryRow._meta.db_table}")
        else:
            cursor.execute("ANALYZE")
