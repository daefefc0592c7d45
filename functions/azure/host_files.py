"""An Azure function app's ``local.settings.json`` and ``host.json``, read where their settings
have a Perdura counterpart.

``local.settings.json`` (beside the app's module) is read before the module is imported: its
``Values`` become environment variables, as the Functions host makes app settings, so the
app's code and Azure's ``AzureWebJobs.<name>.Disabled`` switches see them. A variable already
set in the environment is kept: the deployment's word wins over the file.

``host.json`` maps onto Perdura's settings where one exists (the table below), unless the
setting's environment variable is set. Every other setting in it is named in a warning at
start, never passed over in silence; ``version`` and ``extensionBundle`` (how Azure packages
its extensions) mean nothing here and are skipped without one.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("perdura.functions")

LOCAL_SETTINGS = "local.settings.json"
HOST_JSON = "host.json"
#: host.json keys that describe Azure's packaging, not the app.
IGNORED = ("version", "extensionBundle")


@dataclass(frozen=True)
class Mapping:
    """One host.json setting: where it is (a path of keys), the Perdura setting it sets and the
    environment variable that overrides it, and how its value is read."""

    path: tuple[str, ...]
    setting: str
    convert: Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value.strip("/")


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a whole number of at least 1, got {value!r}")
    return value


_TIME_SPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$")


def _seconds(value: Any) -> float:
    """A .NET TimeSpan as host.json writes one: ``[d.]hh:mm:ss[.fff]``."""
    matched = _TIME_SPAN.match(value) if isinstance(value, str) else None
    if matched is None:
        raise ValueError(f"expected a time span such as 00:00:30, got {value!r}")
    days, hours, minutes, seconds = matched.groups()
    span = timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds))
    if span.total_seconds() <= 0:
        raise ValueError(f"expected a time span longer than zero, got {value!r}")
    return span.total_seconds()


MAPPINGS = (
    Mapping(("extensions", "http", "routePrefix"), "PERDURA_HTTP_ROUTE_PREFIX", _text),
    Mapping(("extensions", "durableTask", "hubName"), "PERDURA_TASK_HUB", _text),
    Mapping(
        ("extensions", "durableTask", "maxConcurrentActivityFunctions"),
        "PERDURA_MAX_CONCURRENT_ACTIVITY_FUNCTIONS",
        _count,
    ),
    Mapping(
        ("extensions", "durableTask", "maxConcurrentOrchestratorFunctions"),
        "PERDURA_MAX_CONCURRENT_ORCHESTRATOR_FUNCTIONS",
        _count,
    ),
    Mapping(("extensions", "queues", "maxDequeueCount"), "PERDURA_QUEUE_MAX_DEQUEUE_COUNT", _count),
    Mapping(("extensions", "queues", "visibilityTimeout"), "PERDURA_QUEUE_VISIBILITY_SECONDS", _seconds),
)


def read_local_settings(directory: Path) -> list[str]:
    """Set the ``Values`` of ``directory``'s local.settings.json as environment variables (those
    not set already); the names it set."""
    document = _read(directory / LOCAL_SETTINGS)
    if document is None:
        return []
    values = document.get("Values") or {}
    if not isinstance(values, dict):
        raise ImproperlyConfigured(f"{directory / LOCAL_SETTINGS}: Values must be an object of names and texts")
    set_now = []
    for name, value in values.items():
        if name not in os.environ:
            os.environ[name] = "" if value is None else str(value)
            set_now.append(name)
    return set_now


def read_host_json(directory: Path) -> dict[str, Any]:
    """Apply ``directory``'s host.json to the settings; the settings it changed."""
    path = directory / HOST_JSON
    document = _read(path)
    if document is None:
        return {}
    applied: dict[str, Any] = {}
    for mapping in MAPPINGS:
        found = _at(document, mapping.path)
        if found is _MISSING:
            continue
        try:
            value = mapping.convert(found)
        except ValueError as error:
            raise ImproperlyConfigured(f"{path}: {'.'.join(mapping.path)}: {error}") from None
        if mapping.setting in os.environ:
            continue  # The environment's word wins.
        earlier = _applied_from.get(mapping.setting)
        if earlier is not None and earlier[1] != value:
            # The settings are the server's, not one app's: two apps' files cannot both have theirs.
            logger.warning(
                "%s: %s is %r, but %s set it to %r for the whole server; %r is used",
                path,
                ".".join(mapping.path),
                value,
                earlier[0],
                earlier[1],
                value,
            )
        _applied_from[mapping.setting] = (path, value)
        setattr(settings, mapping.setting, value)
        applied[mapping.setting] = value
    for key in _unmapped(document):
        logger.warning("%s: %s has no counterpart in Perdura and is not applied", path, key)
    return applied


_MISSING = object()
#: Which host.json set each setting, and to what: a second app's file that disagrees is warned of.
_applied_from: dict[str, tuple[Path, Any]] = {}


def _at(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _unmapped(document: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[str]:
    """The dotted paths of the settings no mapping reads."""
    mapped = {mapping.path for mapping in MAPPINGS}
    found = []
    for key, value in document.items():
        path = (*prefix, key)
        if not prefix and key in IGNORED:
            continue
        if path in mapped:
            continue
        if isinstance(value, dict) and any(m[: len(path)] == path for m in mapped):
            found += _unmapped(value, path)
        else:
            found.append(".".join(path))
    return found


def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"{path} cannot be read as JSON: {error}") from None
    if not isinstance(document, dict):
        raise ImproperlyConfigured(f"{path} must hold a JSON object")
    return document
