from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured

from consoleapp.env import env_bool, env_choice, env_float, env_int, env_list, env_secret


def test_env_int_names_the_variable_and_the_bad_value(monkeypatch):
    monkeypatch.setenv("PERDURA_BATCH_SIZE", "many")

    with pytest.raises(ImproperlyConfigured, match=r"PERDURA_BATCH_SIZE.*'many'"):
        env_int("PERDURA_BATCH_SIZE", 50)


def test_env_int_enforces_its_minimum(monkeypatch):
    monkeypatch.setenv("PERDURA_LEASE_SECONDS", "0")

    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("PERDURA_LEASE_SECONDS", 30, minimum=1)


def test_env_values_fall_back_to_their_defaults(monkeypatch):
    monkeypatch.delenv("PERDURA_X", raising=False)

    assert env_int("PERDURA_X", 7) == 7
    assert env_float("PERDURA_X", 0.5) == 0.5
    assert env_bool("PERDURA_X", True) is True
    assert env_list("PERDURA_X", ["a"]) == ["a"]


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("false", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("PERDURA_DEBUG", raw)

    assert env_bool("PERDURA_DEBUG") is expected


def test_env_bool_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("PERDURA_DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="PERDURA_DEBUG"):
        env_bool("PERDURA_DEBUG")


def test_env_choice_lists_the_choices(monkeypatch):
    monkeypatch.setenv("PERDURA_WORKERS", "threads")

    with pytest.raises(ImproperlyConfigured, match="inprocess, celery"):
        env_choice("PERDURA_WORKERS", ("inprocess", "celery"), "inprocess")


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("PERDURA_FUNCTION_APPS", "samples, billing.app ,,")

    assert env_list("PERDURA_FUNCTION_APPS", []) == ["samples", "billing.app"]


def test_env_secret_prefers_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PERDURA_SECRET_KEY", "from-the-environment")

    assert env_secret("PERDURA_SECRET_KEY", tmp_path / "secret_key") == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_env_secret_keeps_a_generated_key_in_a_file_only_its_owner_reads(monkeypatch, tmp_path):
    monkeypatch.delenv("PERDURA_SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"

    key = env_secret("PERDURA_SECRET_KEY", key_file)

    assert len(key) >= 50
    assert key_file.read_text() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert env_secret("PERDURA_SECRET_KEY", key_file) == key


def test_first_starts_at_the_same_moment_all_get_the_one_key(monkeypatch, tmp_path):
    """Several processes starting for the first time at once each read the key file before any
    has written it; they must still end up with one key, or their sessions and signatures would
    not be valid in each other."""
    monkeypatch.delenv("PERDURA_SECRET_KEY", raising=False)
    starts = 12
    for attempt in range(20):
        key_file = tmp_path / str(attempt) / "secret_key"
        key_file.parent.mkdir()
        barrier = threading.Barrier(starts)

        def first_start(key_file=key_file, barrier=barrier) -> str:
            barrier.wait()
            return env_secret("PERDURA_SECRET_KEY", key_file)

        with ThreadPoolExecutor(starts) as pool:
            keys = set(pool.map(lambda _: first_start(), range(starts)))

        assert keys == {key_file.read_text()}, f"attempt {attempt}: {len(keys)} different keys"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_env_secret_refuses_an_empty_key_file(monkeypatch, tmp_path):
    monkeypatch.delenv("PERDURA_SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"
    key_file.write_text("")

    with pytest.raises(ImproperlyConfigured, match=r"secret_key is empty.*PERDURA_SECRET_KEY"):
        env_secret("PERDURA_SECRET_KEY", key_file)
