"""Behind a TLS-terminating proxy: PERDURA_HTTPS and its overrides turn on what Django's deploy
checks ask for, while the embedded default keeps serving plain HTTP on 127.0.0.1. Settings are
read at import, so each case runs ``manage.py`` in a subprocess with its own environment."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.consoleapp.embedded import manage

#: The deploy-check warnings about HTTPS: no HSTS, no redirect to HTTPS, cookies sent over HTTP.
HTTPS_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")
STRONG_KEY = "k9-Vq3xP7mZr2LwT8cYh5NbJ4sFgD6aE1uKoQ0iRtWvXyB2nM7pL3qS8dF4gH6jK"

#: Requests made with Django's test client inside the subprocess, answered as JSON.
REQUESTS = """
import json
from django.test import Client
plain, proxied = Client(), Client(HTTP_X_FORWARDED_PROTO="https")
login, health, secure_login = plain.get("/login/"), plain.get("/healthz"), proxied.get("/login/")
print(json.dumps({
    "login": [login.status_code, login.get("Location")],
    "healthz": health.status_code,
    "secure_login": secure_login.status_code,
    "hsts": secure_login.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(secure_login.cookies["csrftoken"]["secure"]),
}))
"""


def deploy_check(tmp_path, **env: str) -> str:
    result = manage(tmp_path / "var", "check", "--deploy", **env)
    return result.stdout + result.stderr


def test_the_embedded_default_warns_about_https(tmp_path):
    output = deploy_check(tmp_path)

    assert all(warning in output for warning in HTTPS_WARNINGS), output


def test_perdura_https_answers_the_https_warnings(tmp_path):
    output = deploy_check(tmp_path, PERDURA_HTTPS="true")

    assert not [warning for warning in HTTPS_WARNINGS if warning in output], output


def test_the_whole_set_passes_the_deploy_check(tmp_path):
    output = deploy_check(
        tmp_path,
        PERDURA_HTTPS="true",
        PERDURA_HSTS_INCLUDE_SUBDOMAINS="true",
        PERDURA_HSTS_PRELOAD="true",
        PERDURA_SECRET_KEY=STRONG_KEY,
    )

    assert "System check identified no issues" in output, output


def requests_with(tmp_path, **env: str) -> dict:
    var_dir = tmp_path / "var"
    manage(var_dir, "migrate", "--noinput")
    return json.loads(manage(var_dir, "shell", "--verbosity", "0", "--command", REQUESTS, **env).stdout)


def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts_and_secure_cookies(tmp_path):
    answers = requests_with(tmp_path, PERDURA_HTTPS="true")

    assert answers["login"] == [301, "https://testserver/login/"]
    # Probes call the health check over plain HTTP from inside the network.
    assert answers["healthz"] in (200, 503)
    assert answers["secure_login"] == 200
    assert answers["hsts"] == "max-age=31536000"
    assert answers["csrf_cookie_secure"] is True


def test_the_embedded_default_serves_plain_http(tmp_path):
    answers = requests_with(tmp_path)

    assert answers["login"] == [200, None]
    assert answers["hsts"] is None
    assert answers["csrf_cookie_secure"] is False


def test_the_hsts_settings_can_be_chosen(tmp_path):
    answers = requests_with(
        tmp_path,
        PERDURA_HTTPS="true",
        PERDURA_HSTS_SECONDS="600",
        PERDURA_HSTS_INCLUDE_SUBDOMAINS="yes",
        PERDURA_HSTS_PRELOAD="yes",
    )

    assert answers["hsts"] == "max-age=600; includeSubDomains; preload"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PERDURA_HTTPS", "sometimes"),
        ("PERDURA_HSTS_SECONDS", "a year"),
        ("PERDURA_HSTS_SECONDS", "-1"),
        ("PERDURA_HSTS_PRELOAD", "please"),
        ("PERDURA_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(tmp_path, name, value):
    with pytest.raises(subprocess.CalledProcessError) as failure:
        manage(tmp_path / "var", "check", **{name: value})

    assert "ImproperlyConfigured" in failure.value.stderr
    assert name in failure.value.stderr.splitlines()[-1]
