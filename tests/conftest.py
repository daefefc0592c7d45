"""Shared fixtures: the workers that run orchestrations during end-to-end tests.

In the embedded mode (no REDIS_URL) the workers are in-process threads; with
PERDURA_WORKERS=celery (CI's second run) they are real ``manage.py worker`` processes against
the test database, so the same tests cover both deployments.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

import tests.function_apps  # noqa: F401  (registers the test function apps in this process)

REPO = Path(__file__).resolve().parent.parent
TEST_FUNCTION_APPS = "samples,tests.function_apps"

# The samples' every-minute timer would start orchestrations in the middle of unrelated tests
# (and in the worker processes they start, which inherit this): disabled as Azure disables a
# function. Its own test turns it back on.
os.environ.setdefault("AzureWebJobs.start_stock_report.Disabled", "true")


def is_celery_mode() -> bool:
    return settings.PERDURA_WORKERS == "celery"


def database_url() -> str:
    """A URL for the database the tests are using now (the test database, not the configured one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    """A ``manage.py worker`` process against the test database; it can be killed and restarted."""

    def __init__(self, extra_env: dict[str, str] | None = None, *args: str) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "PERDURA_FUNCTION_APPS": TEST_FUNCTION_APPS,
            "PERDURA_POLL_SECONDS": "0.2",
            # Tests seed finished instances of any age; only retention's own tests purge them.
            "PERDURA_RETENTION": "off",
            **(extra_env or {}),
        }
        self.args = args
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--loglevel", "WARNING", *self.args],
            cwd=REPO,
            env=self.env,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the parent and its Celery children, mid-work."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker_process(transactional_db) -> Iterator[WorkerProcess]:
    """A ``manage.py worker`` process for one test. One per test, not per session: a worker
    left running between tests would work on the next test's rows and hold locks while the
    database is emptied."""
    process = WorkerProcess().start()
    yield process
    process.stop()


@pytest.fixture
def workers(transactional_db, request) -> Iterator[object]:
    """Workers running in the background for the duration of a test."""
    if is_celery_mode():
        yield request.getfixturevalue("worker_process")
    else:
        from orchestrations.worker.inprocess import InProcessWorkers

        settings.PERDURA_POLL_SECONDS = 0.05
        try:
            in_process = InProcessWorkers()
            in_process.start()
            yield in_process
            in_process.stop()
        finally:
            settings.PERDURA_POLL_SECONDS = 1.0


def wait_until(condition, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


@pytest.fixture
def allow_live_server(live_server, settings, monkeypatch) -> str:
    """Let call_http reach the test's live server (a loopback address, refused by default): in
    this process's settings, and in the environment worker processes started after it inherit."""
    entry = live_server.url.split("://", 1)[1]
    settings.PERDURA_HTTP_ALLOWED_HOSTS = [entry]
    monkeypatch.setenv("PERDURA_HTTP_ALLOWED_HOSTS", entry)
    return live_server.url


@pytest.fixture
def empty_recorder():
    """No invocation row left in the recorder's buffer before the test or after it: a test that
    counts rows counts its own only. (Modules that use it: ``pytest.mark.usefixtures``.)"""
    from functions.worker import recorder

    recorder.flush()
    yield
    recorder.flush()


@pytest.fixture(scope="session", autouse=True)
def metrics_flusher_stopped_before_the_database_goes(django_db_setup, django_db_blocker):
    """The metrics' flushing thread writes every few seconds with a connection of its own: it is
    stopped before pytest-django drops the test database, which an open connection would block."""
    yield
    from orchestrations.store import metrics

    with django_db_blocker.unblock():
        metrics.stop()
