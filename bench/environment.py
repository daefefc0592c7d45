"""What a benchmark run stands on: its databases, its worker processes, H1's web server, and
the machine facts every result records."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
FUNCTION_APPS = "samples,bench.functions,bench.azure_functions,bench.timer_functions"
#: The ``manage.py worker`` defaults, passed explicitly so that the record says what ran.
CONCURRENCY = {"orchestrations": 2, "activities": 4, "entities": 1}


# Databases.


def database_url(server_url: str, name: str) -> str:
    """``server_url`` (postgres://user@host:port) with the database ``name``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def connected_database_url() -> str:
    """A URL for the database this process is connected to: the bench's, or a test's (whose
    name differs from the configured one), for a process started against the same database."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db.get('USER') or ''}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def recreate_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clear_redis(redis_url: str) -> None:
    """Drop Perdura's queues, their bindings and the wake-up flags from the bench's Redis
    database, so that a previous run's leftovers do not wake this run's workers."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match="*perdura*"))
    if keys:
        client.delete(*keys)
    client.close()


# Worker processes.


@dataclass
class WorkerProcesses:
    """``count`` ``manage.py worker`` processes, each in its own session so that stopping one
    stops its Celery children with it."""

    count: int
    pool: str
    env: dict[str, str]
    log_dir: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> WorkerProcesses:
        command = [
            sys.executable,
            "manage.py",
            "worker",
            "--pool",
            self.pool,
            "--orchestration-concurrency",
            str(CONCURRENCY["orchestrations"]),
            "--activity-concurrency",
            str(CONCURRENCY["activities"]),
            "--entity-concurrency",
            str(CONCURRENCY["entities"]),
            "--loglevel",
            "WARNING",
        ]
        for number in range(self.count):
            # The child keeps its own copy of the log's file descriptor.
            with open(self.log_dir / f"worker-{number}.log", "wb") as log:
                process = subprocess.Popen(
                    command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            self.processes.append(process)
        return self

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Wait until every process has beaten its heartbeat and every Celery worker (one per
        queue per process) answers a ping; return how long that took."""
        from consoleapp.celery import app
        from orchestrations.models import WorkerHeartbeat

        started = time.perf_counter()
        pids = {process.pid for process in self.processes}
        expected_celery_workers = self.count * len(CONCURRENCY)
        while time.perf_counter() - started < timeout:
            self.check_alive()
            beating = set(WorkerHeartbeat.objects.filter(pid__in=pids).values_list("pid", flat=True))
            if beating == pids:
                replies = app.control.ping(timeout=0.5)
                if len(replies) >= expected_celery_workers:
                    return time.perf_counter() - started
            time.sleep(0.2)
        raise RuntimeError(f"the worker processes were not ready within {timeout:.0f} s; see {self.log_dir}")

    def check_alive(self) -> None:
        for number, process in enumerate(self.processes):
            if process.poll() is not None:
                log = (self.log_dir / f"worker-{number}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"worker process {number} exited with status {process.returncode}:\n{log}")

    def stop(self) -> None:
        """SIGTERM each process group (the worker stops its Celery children), SIGKILL it after 30 s."""
        for process in self.processes:
            signal_group(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                signal_group(process, signal.SIGKILL)
                process.wait()


def signal_group(process: subprocess.Popen, signum: int) -> None:
    """Send ``signum`` to the process group of ``process`` (started in a session of its own)."""
    # The group may be gone already: a worker that exited took its children with it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


# H1's web server.


@dataclass
class WebServer:
    """One web process as production runs it (``manage.py serve --no-workers``: Daphne serving
    ``consoleapp.asgi:application``, no access log) on a free loopback port, with ``env`` (its
    settings module and database among it). Its var directory is ``scratch``, so that the
    first admin it makes in a fresh database leaves its password file there, not in the
    checkout's var/; its output goes there too."""

    env: dict[str, str]
    scratch: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.scratch / "server.log"

    def start(self) -> WebServer:
        self.port = free_port()
        command = [
            sys.executable,
            "manage.py",
            "serve",
            "--no-workers",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        env = {**self.env, "PERDURA_VAR_DIR": str(self.scratch)}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self, path: str, timeout: float = 60.0) -> float:
        """Wait until ``path`` answers 200; return how long that took."""
        import http.client

        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            self.check_alive()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    return time.perf_counter() - started
            except OSError:
                pass  # Not listening yet.
            finally:
                connection.close()
            time.sleep(0.2)
        raise RuntimeError(f"the web server did not answer {path} within {timeout:.0f} s:\n{self.log_tail()}")

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the web server exited with status {self.process.returncode}:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGTERM (Daphne stops and writes what it still buffers), SIGKILL after 30 s."""
        if self.process is None or self.process.poll() is not None:
            return
        signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            signal_group(self.process, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    """A loopback port nobody listens on now. Another process could take it before the server
    binds it; the server would then exit, and ``wait_ready`` say so with its log."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Machine facts.


def git_commit() -> tuple[str, bool]:
    """The short commit of the work tree, and whether the tree has changes not committed."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()

    return git("rev-parse", "--short", "HEAD") or "unknown", bool(git("status", "--porcelain"))


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": load_average(),
    }


def load_average() -> float | None:
    """The 1-minute load average: other work on the machine lowers every figure, so each run records it."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def database_facts() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0]
            settings = {}
            for name in ("shared_buffers", "max_connections", "synchronous_commit", "fsync", "work_mem"):
                cursor.execute(f"SHOW {name}")
                settings[name] = cursor.fetchone()[0]
            return {"vendor": "postgresql", "version": version, "settings": settings}
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0])
    return {
        "vendor": "sqlite",
        "version": f"SQLite {sqlite3.sqlite_version}",
        "settings": {"journal_mode": journal_mode, "synchronous": synchronous},
    }
