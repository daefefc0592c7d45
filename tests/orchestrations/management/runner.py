"""Run ``manage.py durable`` in tests: in this process through call_command (fast), or as a
real process when what is under test is what a shell sees (exit status, stderr, no traceback)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError

from orchestrations.models import HistoryRow, Instance, Message, WorkItem
from tests.conftest import REPO, TEST_FUNCTION_APPS, database_url


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def durable(*args: str) -> Outcome:
    """Run ``durable ARGS`` in this process. A CommandError becomes what the shell would see:
    its message on stderr and its return code as the exit status."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command("durable", *args, stdout=stdout, stderr=stderr)
    except CommandError as error:
        stderr.write(f"{error}\n")
        return Outcome(error.returncode, stdout.getvalue(), stderr.getvalue())
    return Outcome(0, stdout.getvalue(), stderr.getvalue())


def durable_process(*args: str) -> Outcome:
    """Run ``python manage.py durable ARGS`` against the test database; the test needs
    ``transactional_db`` so that the process sees the rows the test wrote."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "durable", *args],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url(), "PERDURA_FUNCTION_APPS": TEST_FUNCTION_APPS},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Outcome(completed.returncode, completed.stdout, completed.stderr)


def stored_rows() -> dict[str, Any]:
    """Everything a command could change, to show that a refused one changed nothing."""
    return {
        "instances": list(Instance.objects.order_by("pk").values()),
        "history": HistoryRow.objects.count(),
        "messages": Message.objects.count(),
        "work_items": WorkItem.objects.count(),
    }
