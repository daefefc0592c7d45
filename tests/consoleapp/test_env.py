from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from consoleapp.env import env_bool, env_choice, env_float, env_int, env_list


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
