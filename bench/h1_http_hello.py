"""H1 HTTP hello: an anonymous HTTP function answering "hello", against a plain Django view
answering the same, on one web process started as a deployment starts it (``manage.py serve
--no-workers``: Daphne serving ``consoleapp.asgi:application``); bench/settings.py adds the
plain view, and nothing else differs.

CLIENTS clients, each on its own keep-alive connection, send one GET after another: first
to the function (a warm-up, then the measured seconds), then, once every invocation the
function ran is on record, to the plain view the same way. A request counts when its answer
arrives inside the measured seconds; requests/s is their number over those seconds, and its
p50 and p99 are those answers' latencies. Every answer is checked (200, "hello"): a run with
a wrong one reports no figure rather than a fast error page's.

The function's invocation rows are written by the server's recorder thread in batches; the
runner waits until the table holds one row per answer the function gave (the warm-up's
included), and reports the share recorded as a figure of its own.

The clients are asyncio streams in this process, not threads: on a small machine that shares
its cores with the server, a lighter client leaves more of them to what is measured.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

from bench import environment
from bench.measure import Figure, TimedOut, percentile, wait_until
from bench.urls import PLAIN_HELLO_PATH
from functions.models import Invocation

WORKLOAD = "H1"
FUNCTION = "bench_http_hello"
FUNCTION_PATH = "/api/bench/hello"
EXPECTED_BODY = b"hello"
CLIENTS = 16
TARGET_REQUESTS_PER_SECOND = 1000.0
TARGET_P99_MS = 50.0
#: The function should serve at least this share of what the plain view serves.
TARGET_RATIO_TO_PLAIN = 0.8
SERVER_SETTINGS = "bench.settings"


@dataclass
class Load:
    """What the clients saw on one path."""

    path: str
    seconds: float
    #: The latencies of the answers that arrived inside the measured seconds.
    latencies_ms: list[float] = field(default_factory=list)
    #: Every right answer, the warm-up's included: as many invocations should be recorded.
    answered: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds


class ProtocolError(Exception):
    """The server answered something this client does not read."""


def run(seconds: float, *, warmup_seconds: float, timeout: float) -> list[Figure]:
    """Start the server, load the function then the plain view, and stop the server."""
    scratch = Path(tempfile.mkdtemp(prefix="perdura-h1-"))
    server = environment.WebServer(_server_env(), scratch).start()
    try:
        ready_seconds = server.wait_ready(PLAIN_HELLO_PATH)
        already = Invocation.objects.filter(function_name=FUNCTION).count()
        function = asyncio.run(_load(server.port, FUNCTION_PATH, warmup_seconds, seconds))
        recorded, recording_error = _wait_recorded(already, function.answered, timeout)
        plain = asyncio.run(_load(server.port, PLAIN_HELLO_PATH, warmup_seconds, seconds))
        server.check_alive()
    finally:
        server.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    common = {
        "clients": CLIENTS,
        "seconds": seconds,
        "warmup_seconds": warmup_seconds,
        "server": "manage.py serve --no-workers: daphne, 1 process, consoleapp.asgi:application",
        "server_ready_seconds": round(ready_seconds, 3),
    }
    return _figures(function, plain, recorded, recording_error, common)


def _server_env() -> dict[str, str]:
    function_apps = os.environ.get("PERDURA_FUNCTION_APPS", environment.FUNCTION_APPS)
    if "bench.functions" not in function_apps.split(","):
        function_apps += ",bench.functions"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS,
        "DATABASE_URL": environment.connected_database_url(),
        "PERDURA_FUNCTION_APPS": function_apps,
    }


def _wait_recorded(already: int, answered: int, timeout: float) -> tuple[int, str | None]:
    """How many of the ``answered`` invocations the recorder wrote, once all were or ``timeout`` passed."""

    def recorded() -> int:
        return Invocation.objects.filter(function_name=FUNCTION).count() - already

    try:
        wait_until(lambda: recorded() >= answered, timeout, f"{answered:,} invocations recorded")
    except TimedOut as error:
        return recorded(), str(error)
    return recorded(), None


# The figures.


def _figures(function: Load, plain: Load, recorded: int, recording_error: str | None, common: dict) -> list[Figure]:
    function_title = f"HTTP function hello, {CLIENTS} clients"
    plain_title = f"Plain Django view hello, {CLIENTS} clients"
    function_details = _details(function, common)
    plain_details = _details(plain, common)
    measured = not function.failures and bool(function.latencies_ms)
    plain_measured = not plain.failures and bool(plain.latencies_ms)
    figures = _load_figures(function, function_title, function_details, measured, targets=True)
    figures += _load_figures(plain, plain_title, plain_details, plain_measured, targets=False)
    ratio = function.requests_per_second / plain.requests_per_second if measured and plain_measured else None
    ratio_details = {"function_requests_per_second": function_details.get("requests_per_second")}
    ratio_details["plain_view_requests_per_second"] = plain_details.get("requests_per_second")
    if ratio is None:
        ratio_details["error"] = "not both measured"
    figures.append(
        Figure(
            WORKLOAD,
            function_title,
            "requests/s over the plain view's",
            ratio,
            "higher",
            TARGET_RATIO_TO_PLAIN,
            ratio_details,
        )
    )
    recording = {"answered": function.answered, "recorded": recorded}
    if recording_error:
        recording["error"] = recording_error
    share = 100.0 * recorded / function.answered if function.answered else None
    figures.append(Figure(WORKLOAD, function_title, "% of invocations recorded", share, "higher", 100.0, recording))
    return figures


def _load_figures(load: Load, title: str, details: dict, measured: bool, *, targets: bool) -> list[Figure]:
    rate = load.requests_per_second if measured else None
    p50 = percentile(load.latencies_ms, 0.50) if measured else None
    p99 = percentile(load.latencies_ms, 0.99) if measured else None
    return [
        Figure(WORKLOAD, title, "requests/s", rate, "higher", TARGET_REQUESTS_PER_SECOND if targets else None, details),
        Figure(WORKLOAD, title, "p50 latency (ms)", p50, "lower", None, details),
        Figure(WORKLOAD, title, "p99 latency (ms)", p99, "lower", TARGET_P99_MS if targets else None, details),
    ]


def _details(load: Load, common: dict) -> dict:
    details = {**common, "path": load.path, "requests": len(load.latencies_ms), "answered": load.answered}
    if load.latencies_ms:
        details["requests_per_second"] = round(load.requests_per_second, 1)
    if load.failures:
        details["failed"] = len(load.failures)
        details["error"] = f"{len(load.failures)} requests failed; the first: {load.failures[0]}"
    elif not load.latencies_ms:
        details["error"] = "no answer arrived inside the measured seconds"
    return details


# The clients.


async def _load(port: int, path: str, warmup_seconds: float, seconds: float) -> Load:
    load = Load(path, seconds)
    measure_from = perf_counter() + warmup_seconds
    measure_until = measure_from + seconds
    await asyncio.gather(*(_client(port, path, measure_from, measure_until, load) for _ in range(CLIENTS)))
    return load


async def _client(port: int, path: str, measure_from: float, measure_until: float, load: Load) -> None:
    """GET ``path`` again and again on one connection until ``measure_until``; a connection the
    server closes, or one that failed, is opened again."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    reader = writer = None
    try:
        while (started := perf_counter()) < measure_until:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(request)
                status, body, keep_alive = await _read_answer(reader)
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as error:
                load.failures.append(f"{type(error).__name__}: {error}")
                writer.close()
                reader = writer = None
                continue
            finished = perf_counter()
            if status != 200 or body != EXPECTED_BODY:
                load.failures.append(f"{status} {body[:200]!r}")
            else:
                load.answered += 1
                if measure_from <= finished <= measure_until:
                    load.latencies_ms.append((finished - started) * 1000)
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """The status, body and whether the connection stays open, of an answer with a Content-Length."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError):
        raise ProtocolError(f"not an HTTP status line: {status_line!r}") from None
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ProtocolError(f"an answer ({status}) without Content-Length; this client reads no other")
    body = await reader.readexactly(int(headers["content-length"]))
    return status, body, headers.get("connection", "").lower() != "close"
