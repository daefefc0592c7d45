"""An Azure app's local.settings.json and host.json (functions/azure/host_files.py): values
become environment variables, host.json's settings map onto Perdura's, the environment wins,
and what has no counterpart is named in a warning."""

from __future__ import annotations

import json
import logging
import os

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from functions.azure import host_files
from functions.azure.host_files import read_host_json, read_local_settings

MAPPED = [
    "PERDURA_HTTP_ROUTE_PREFIX",
    "PERDURA_TASK_HUB",
    "PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS",
    "PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS",
    "PERDURA_QUEUE_MAX_DEQUEUE_COUNT",
    "PERDURA_QUEUE_VISIBILITY_SECONDS",
]


@pytest.fixture
def restored_environment():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def overridable(settings, monkeypatch):
    """The mapped settings under an override that the test's end takes back, and none of their
    variables in the environment."""
    for name in MAPPED:
        setattr(settings, name, getattr(django_settings, name))
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(host_files, "_applied_from", {})  # No other test's host.json has been read.
    return settings


def write(directory, name: str, document) -> None:
    (directory / name).write_text(json.dumps(document) if not isinstance(document, str) else document)


def test_values_become_environment_variables_unless_already_set(tmp_path, restored_environment, monkeypatch):
    monkeypatch.setenv("ALREADY_SET", "from the deployment")
    write(
        tmp_path,
        "local.settings.json",
        {"IsEncrypted": False, "Values": {"API_URL": "https://example.test", "ALREADY_SET": "from the file"}},
    )

    assert read_local_settings(tmp_path) == ["API_URL"]
    assert os.environ["API_URL"] == "https://example.test"
    assert os.environ["ALREADY_SET"] == "from the deployment"


def test_no_local_settings_file_sets_nothing(tmp_path):
    assert read_local_settings(tmp_path) == []


def test_host_json_maps_onto_perdura_s_settings(tmp_path, overridable, caplog):
    write(
        tmp_path,
        "host.json",
        {
            "version": "2.0",
            "extensionBundle": {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"},
            "extensions": {
                "http": {"routePrefix": "functions"},
                "durableTask": {
                    "hubName": "OrdersHub",
                    "maxConcurrentActivityFunctions": 7,
                    "maxConcurrentOrchestratorFunctions": 3,
                },
                "queues": {"maxDequeueCount": 9, "visibilityTimeout": "00:00:45"},
            },
        },
    )

    with caplog.at_level(logging.WARNING, logger="perdura.functions"):
        applied = read_host_json(tmp_path)

    assert applied == {
        "PERDURA_HTTP_ROUTE_PREFIX": "functions",
        "PERDURA_TASK_HUB": "OrdersHub",
        "PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS": 7,
        "PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS": 3,
        "PERDURA_QUEUE_MAX_DEQUEUE_COUNT": 9,
        "PERDURA_QUEUE_VISIBILITY_SECONDS": 45.0,
    }
    assert django_settings.PERDURA_TASK_HUB == "OrdersHub"
    assert caplog.records == []  # version and extensionBundle are Azure's packaging: no warning.


def test_the_environment_wins_over_host_json(tmp_path, overridable, monkeypatch):
    monkeypatch.setenv("PERDURA_TASK_HUB", "from-env")
    write(tmp_path, "host.json", {"extensions": {"durableTask": {"hubName": "FromFile"}}})

    assert read_host_json(tmp_path) == {}


def test_settings_without_a_counterpart_are_named_in_warnings(tmp_path, overridable, caplog):
    write(
        tmp_path,
        "host.json",
        {
            "version": "2.0",
            "functionTimeout": "00:10:00",
            "logging": {"logLevel": {"default": "Information"}},
            "extensions": {"durableTask": {"hubName": "H", "storageProvider": {"type": "mssql"}}},
        },
    )

    with caplog.at_level(logging.WARNING, logger="perdura.functions"):
        read_host_json(tmp_path)

    warned = " ".join(record.getMessage() for record in caplog.records)
    assert "functionTimeout" in warned
    assert "logging" in warned
    assert "extensions.durableTask.storageProvider" in warned
    assert "hubName" not in warned


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("{not json", "cannot be read as JSON"),
        ({"extensions": {"durableTask": {"maxConcurrentActivityFunctions": 0}}}, "maxConcurrentActivityFunctions"),
        ({"extensions": {"queues": {"visibilityTimeout": "soon"}}}, "visibilityTimeout"),
    ],
)
def test_a_bad_host_json_stops_the_start_naming_the_file_and_setting(tmp_path, overridable, document, named):
    write(tmp_path, "host.json", document)

    with pytest.raises(ImproperlyConfigured) as refused:
        read_host_json(tmp_path)

    assert "host.json" in str(refused.value)
    assert named in str(refused.value)


def test_a_module_named_in_the_settings_starts_with_its_files_read(tmp_path):
    """The whole start, in a process of its own: local.settings.json before the module is
    imported (its code sees the values), host.json after its app is registered."""
    import subprocess
    import sys
    from pathlib import Path

    app_dir = tmp_path / "shop"
    app_dir.mkdir()
    (app_dir / "__init__.py").write_text("")
    (app_dir / "function_app.py").write_text(
        "import os\n"
        "import azure.functions as func\n"
        "GREETING_AT_IMPORT = os.environ.get('SHOP_GREETING')\n"
        "app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)\n"
        "@app.route(route='greet')\n"
        "def shop_greet(req: func.HttpRequest) -> str:\n"
        "    return GREETING_AT_IMPORT\n"
    )
    write(app_dir, "local.settings.json", {"Values": {"SHOP_GREETING": "welcome"}})
    write(app_dir, "host.json", {"version": "2.0", "extensions": {"http": {"routePrefix": "shop-api"}}})
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.test import Client\n"
        "print(settings.PERDURA_HTTP_ROUTE_PREFIX)\n"
        "print(Client().get('/shop-api/greet').content.decode())\n"
    )
    environment = {
        key: value for key, value in os.environ.items() if key not in ("PERDURA_HTTP_ROUTE_PREFIX", "SHOP_GREETING")
    }
    environment.update(
        PERDURA_FUNCTION_APPS="shop.function_app",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{Path(__file__).resolve().parents[2]}",
        DJANGO_SETTINGS_MODULE="consoleapp.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PERDURA_VAR_DIR=str(tmp_path / "var"),
    )
    environment.pop("REDIS_URL", None)
    environment.pop("PERDURA_WORKERS", None)

    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["shop-api", "welcome"]


def test_two_apps_host_json_that_disagree_are_warned_of(tmp_path, overridable, caplog):
    first, second = tmp_path / "first", tmp_path / "second"
    for directory, hub in ((first, "FirstHub"), (second, "SecondHub")):
        directory.mkdir()
        write(directory, "host.json", {"extensions": {"durableTask": {"hubName": hub}}})
    read_host_json(first)

    with caplog.at_level(logging.WARNING, logger="perdura.functions"):
        read_host_json(second)

    [warning] = [record.getMessage() for record in caplog.records]
    assert "extensions.durableTask.hubName is 'SecondHub'" in warning
    assert "FirstHub" in warning and str(first / "host.json") in warning
    assert django_settings.PERDURA_TASK_HUB == "SecondHub"
