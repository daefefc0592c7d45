"""The layer contracts (pyproject.toml, [tool.importlinter]) hold on this tree, and break on a
tree where the worker imports the console: the check is one that can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("consoleapp", "orchestrations", "entities", "functions", "samples", "bench")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """Run lint-imports on ``tree``, whose packages shadow the installed ones."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_tree(destination: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, destination / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", destination / "pyproject.toml")
    return destination


def test_the_layer_contracts_hold(tmp_path):
    result = lint_imports(copy_of_the_tree(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_the_worker_importing_the_console_breaks_them(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    sweeper = tree / "orchestrations" / "worker" / "sweeper.py"
    sweeper.write_text(sweeper.read_text() + "\nfrom consoleapp import live  # noqa: E402\n")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "orchestrations.worker is not allowed to import consoleapp" in result.stdout
    assert "orchestrations.worker.sweeper -> consoleapp" in result.stdout


def test_the_engine_importing_django_breaks_them(tmp_path):
    tree = copy_of_the_tree(tmp_path)
    tasks = tree / "orchestrations" / "engine" / "tasks.py"
    tasks.write_text(tasks.read_text() + "\nfrom django.utils import timezone  # noqa: E402\n")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "orchestrations.engine is not allowed to import django" in result.stdout
