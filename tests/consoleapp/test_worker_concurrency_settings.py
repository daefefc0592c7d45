"""Per-worker limits as Azure's host.json maxConcurrentActivityFunctions /
maxConcurrentOrchestratorFunctions: the settings set the defaults of ``manage.py worker`` and of
the embedded mode's threads, and a bad value stops the start naming the variable. Settings are
read at import, so each case runs ``manage.py`` in a subprocess with its own environment."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.consoleapp.embedded import embedded_env, manage

PRINT_THREADS = (
    "from django.conf import settings; "
    "print(settings.PERDURA_INPROCESS_ORCHESTRATION_THREADS, settings.PERDURA_INPROCESS_ACTIVITY_THREADS)"
)


def threads(tmp_path, **env: str) -> str:
    return manage(tmp_path / "var", "shell", "--no-imports", "-c", PRINT_THREADS, **env).stdout.strip()


def test_the_embedded_threads_default_to_one_orchestration_and_four_activities(tmp_path):
    assert threads(tmp_path) == "1 4"


def test_the_per_worker_limits_set_the_embedded_threads(tmp_path):
    limits = {"PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS": "3", "PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS": "6"}

    assert threads(tmp_path, **limits) == "3 6"
    assert threads(tmp_path, PERDURA_INPROCESS_ACTIVITY_THREADS="2", **limits) == "3 2"


def test_the_per_worker_limits_are_the_worker_command_s_defaults(tmp_path):
    output = manage(
        tmp_path / "var",
        "worker",
        "--help",
        PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS="5",
        PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS="9",
    ).stdout
    flat = " ".join(output.split())

    assert "episodes run at once (default 5: PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS)" in flat
    assert "activities run at once (default 9: PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS)" in flat


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS",
            "0",
            "PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS must be at least 1; got 0",
        ),
        (
            "PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS",
            "many",
            "PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS must be a whole number; got 'many'",
        ),
    ],
)
def test_a_bad_per_worker_limit_stops_the_start_naming_it(tmp_path, variable, value, message):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=embedded_env(tmp_path / "var", **{variable: value}),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
