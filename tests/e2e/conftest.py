"""Browser tests: Debian's Chromium, driven by Playwright, against ``manage.py serve`` (Daphne,
websockets, and in the embedded mode the in-process workers) running on the test database.

pytest-django's live server is WSGI and has no websockets, so the real server runs as a
subprocess. With PERDURA_WORKERS=celery (CI's services run) it serves without workers and
real ``manage.py worker`` processes do the work, publishing through Redis.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from tests.conftest import REPO, WorkerProcess, database_url, is_celery_mode

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The function apps the server and its workers load: the samples (the approval one included)
#: and the test functions.
FUNCTION_APPS = "samples,samples.approval,tests.function_apps"
PASSWORD = "e2e-password-for-tests"


def pytest_collection_modifyitems(items):
    skip = pytest.mark.skip(reason=f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if item.get_closest_marker("browser") and not CHROMIUM.exists():
            item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ConsoleServer:
    """``manage.py serve`` on a free port; it can be stopped and started again on that port."""

    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ConsoleServer:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "PERDURA_FUNCTION_APPS": FUNCTION_APPS,
            "PERDURA_POLL_SECONDS": "0.1",
            # INFO: functions run by the in-process workers keep their info lines in their logs.
            "PERDURA_LOG_LEVEL": "INFO",
            # A var/ of its own: a first start writes the admin's password there, which must not
            # overwrite the developer's own.
            "PERDURA_VAR_DIR": str(self.log.parent / "var"),
        }
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"manage.py serve exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/login/", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        pytest.fail(f"manage.py serve did not answer within {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def console(transactional_db, tmp_path) -> Iterator[ConsoleServer]:
    """The console, serving the test database, with workers behind it."""
    workers = WorkerProcess({"PERDURA_FUNCTION_APPS": FUNCTION_APPS}).start() if is_celery_mode() else None
    server = ConsoleServer(free_port(), tmp_path / "serve.log").start()
    yield server
    server.stop()
    if workers is not None:
        workers.stop()


@pytest.fixture
def make_person(transactional_db):
    """A user who logs in with a password, in the given groups."""

    def make(username: str, *groups: str) -> User:
        user = User.objects.create_user(username, password=PASSWORD)
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
        return user

    return make


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, which Django takes for an async
    # context; the ORM calls these tests make between browser steps are plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def browser_context(chromium):
    """A fresh browser profile; JavaScript dialogs (an alert() that should never run) are recorded."""
    context = chromium.new_context(viewport={"width": 1360, "height": 900})
    context.dialogs = []
    context.on(
        "page",
        lambda page: page.on("dialog", lambda dialog: (context.dialogs.append(dialog.message), dialog.dismiss())),
    )
    yield context
    context.close()


def log_in(context, console: ConsoleServer, username: str):
    """A new page, logged in as ``username``, on the overview."""
    page = context.new_page()
    page.goto(f"{console.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{console.url}/")
    return page


def open_live(context, console: ConsoleServer, path: str):
    """A new page on ``path`` whose websocket is connected, marked so that a reload would show."""
    page = context.new_page()
    page.goto(f"{console.url}{path}")
    page.wait_for_selector("#live-status[data-state=live]")
    page.evaluate("window.notReloaded = true")
    return page


def was_not_reloaded(page) -> bool:
    return page.evaluate("window.notReloaded === true")
