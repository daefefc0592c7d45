"""Running ``manage.py`` in a subprocess on the embedded default (SQLite, in-process workers)
with a var/ of its own, as a first start on a fresh machine would."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

#: The variables that would point a subprocess away from the embedded default.
NOT_EMBEDDED = ("DATABASE_URL", "REDIS_URL", "PERDURA_WORKERS", "PERDURA_SECRET_KEY", "PERDURA_VAR_DIR")


def embedded_env(var_dir: Path, **env: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name not in NOT_EMBEDDED}
    return {**environment, "PERDURA_VAR_DIR": str(var_dir), **env}


def manage(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` with its var/ in ``var_dir``; fails the test if the command fails."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=embedded_env(var_dir, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def permissions(path: Path) -> int:
    """The permission bits of ``path``, as in 0o600."""
    return stat.S_IMODE(path.stat().st_mode)
