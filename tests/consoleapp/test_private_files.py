"""var/ and the files Perdura keeps in it (the secret key, the embedded database with its sessions
and password hashes) are readable only by the user Perdura runs as, from their creation on, and
older installs are made private at start."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from django.db import connection

from tests.consoleapp.embedded import manage, permissions

#: The user id of "nobody" on Debian.
NOBODY = 65534


def test_a_first_start_makes_var_and_its_files_private(tmp_path):
    var_dir = tmp_path / "var"

    manage(var_dir, "migrate", "--noinput")

    assert permissions(var_dir) == 0o700
    assert permissions(var_dir / "secret_key") == 0o600
    database = var_dir / "perdura.sqlite3"
    assert permissions(database) == 0o600
    # SQLite gives its write-ahead log and shared-memory files the database file's mode; they
    # exist while a connection is open.
    with sqlite3.connect(database) as reader:
        reader.execute("SELECT count(*) FROM auth_user").fetchone()
        assert {path.name: permissions(path) for path in var_dir.glob("perdura.sqlite3-*")} == {
            "perdura.sqlite3-wal": 0o600,
            "perdura.sqlite3-shm": 0o600,
        }


def test_an_older_install_is_made_private_at_start(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o755)
    var_dir.chmod(0o755)
    older_files = ["secret_key", "perdura.sqlite3", "perdura.sqlite3-wal", "perdura.sqlite3-shm"]
    for name in older_files:
        (var_dir / name).write_text("secret key" if name == "secret_key" else "")
        (var_dir / name).chmod(0o644)

    manage(var_dir, "check")

    assert permissions(var_dir) == 0o700
    assert {name: permissions(var_dir / name) for name in older_files} == dict.fromkeys(older_files, 0o600)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_another_user_owns_keeps_its_permissions(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir(mode=0o700)
    key_file = var_dir / "secret_key"
    key_file.write_text("a key the administrator placed")
    key_file.chmod(0o640)
    os.chown(key_file, NOBODY, NOBODY)

    manage(var_dir, "check")

    assert permissions(key_file) == 0o640


def test_a_database_named_outside_var_keeps_its_permissions(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = elsewhere / "perdura.sqlite3"
    database.write_text("")
    database.chmod(0o640)

    manage(tmp_path / "var", "check", DATABASE_URL=f"sqlite:///{database}")

    assert permissions(database) == 0o640


def test_a_new_database_named_outside_var_is_created_private(tmp_path):
    database = tmp_path / "elsewhere" / "perdura.sqlite3"

    manage(tmp_path / "var", "migrate", "--noinput", DATABASE_URL=f"sqlite:///{database}")

    assert permissions(database) == 0o600


@pytest.mark.django_db
def test_the_test_database_is_private_too():
    if connection.vendor != "sqlite":
        pytest.skip("the test database is a file only on SQLite")

    assert permissions(Path(connection.settings_dict["NAME"])) == 0o600
