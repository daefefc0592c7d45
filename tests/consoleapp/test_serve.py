"""``manage.py serve``'s first start: the admin it makes has a password kept in a private file
in var/, never written to the output, where it would end up in log files."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from consoleapp.management.commands.serve import Command
from tests.conftest import REPO
from tests.consoleapp.embedded import embedded_env, manage, permissions


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_until_answering(var_dir: Path, port: int, log: Path, **env: str) -> subprocess.Popen:
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-workers", "--port", str(port)],
            cwd=REPO,
            env=embedded_env(var_dir, PERDURA_LOG_LEVEL="DEBUG", **env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"manage.py serve exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1):
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    stop(server)
    pytest.fail(f"manage.py serve did not answer within 60s:\n{log.read_text()}")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def log_in(base_url: str, username: str, password: str, **headers: str) -> tuple[int, str]:
    """Log in through the console's login form: the status of the last answer and the address
    the browser would end up on."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    browser.addheaders = list(headers.items())
    with browser.open(f"{base_url}/login/") as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode()).group(1)
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    try:
        with browser.open(f"{base_url}/login/", data=urllib.parse.urlencode(form).encode()) as answer:
            return answer.status, answer.url
    except urllib.error.HTTPError as refused:
        return refused.code, refused.url


def test_the_first_start_keeps_the_admin_password_out_of_the_output(tmp_path):
    var_dir = tmp_path / "var"
    manage(var_dir, "migrate", "--noinput")
    port = free_port()
    log = tmp_path / "serve.log"

    server = serve_until_answering(var_dir, port, log)
    try:
        password_file = var_dir / "initial_admin_password"
        password = password_file.read_text().strip()
        logged_in = log_in(f"http://127.0.0.1:{port}", "admin", password)
    finally:
        stop(server)

    output = log.read_text()
    assert password not in output
    assert f"as admin with the password in {password_file}" in output
    assert "manage.py changepassword admin" in output
    assert permissions(password_file) == 0o600
    assert logged_in == (200, f"http://127.0.0.1:{port}/")


def test_behind_a_proxy_the_login_limits_count_the_forwarded_address(tmp_path):
    """With PERDURA_TRUST_X_FORWARDED_FOR, failures through the proxy lock the address of the
    client that made them, not the proxy's, which every other client shares."""
    var_dir = tmp_path / "var"
    manage(var_dir, "migrate", "--noinput")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"

    server = serve_until_answering(var_dir, port, tmp_path / "serve.log", PERDURA_TRUST_X_FORWARDED_FOR="true")
    try:
        password = (var_dir / "initial_admin_password").read_text().strip()
        for attempt in range(5):
            log_in(base_url, f"someone-{attempt}", "wrong", **{"X-Forwarded-For": "203.0.113.9"})
        from_the_guesser = log_in(base_url, "admin", password, **{"X-Forwarded-For": "203.0.113.9"})
        from_elsewhere = log_in(base_url, "admin", password, **{"X-Forwarded-For": "198.51.100.7"})
    finally:
        stop(server)

    assert from_the_guesser == (429, f"{base_url}/login/")
    assert from_elsewhere == (200, f"{base_url}/")


@pytest.mark.django_db
def test_a_password_file_left_from_an_earlier_database_is_replaced(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    stale = tmp_path / "initial_admin_password"
    stale.write_text("the password of an admin in a database since deleted\n")
    stale.chmod(0o644)
    output = StringIO()

    Command(stdout=output).ensure_admin("127.0.0.1", 8000)

    password = stale.read_text().strip()
    assert User.objects.get(username="admin").check_password(password)
    assert permissions(stale) == 0o600
    assert password not in output.getvalue()


@pytest.mark.django_db
def test_a_start_with_an_admin_makes_no_password(settings, tmp_path, django_user_model):
    settings.VAR_DIR = tmp_path
    django_user_model.objects.create_superuser("root", "", "a-long-password-9")
    output = StringIO()

    Command(stdout=output).ensure_admin("127.0.0.1", 8000)

    assert not (tmp_path / "initial_admin_password").exists()
    assert output.getvalue() == ""
