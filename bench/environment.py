"""What a benchmark run stands on: its databases, its worker processes, and the machine facts
every result records."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
FUNCTION_APPS = "samples,bench.functions,bench.timer_functions"
#: The ``manage.py worker`` defaults, passed explicitly so that the record says what ran.
CONCURRENCY = {"orchestrations": 2, "activities": 4, "entities": 1}


# Databases.


def database_url(server_url: str, name: str) -> str:
    """``server_url`` (postgres://user@host:port) with the database ``name``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


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
            self._signal(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._signal(process, signal.SIGKILL)
                process.wait()

    @staticmethod
    def _signal(process: subprocess.Popen, signum: int) -> None:
        # The group may be gone already: a worker that exited took its children with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


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
