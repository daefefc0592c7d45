"""Running one activity: look it up, call it, serialize what it returns or raised."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from functions import builtins
from functions.registry import FunctionKind, registry
from orchestrations.engine import FailureDetails
from orchestrations.engine.failures import storable
from orchestrations.engine.http import HTTP_ACTIVITY_NAME
from orchestrations.engine.serialization import dumps, loads

#: The most log text kept for one activity run; the rest is cut, saying so.
MAX_LOG_CHARACTERS = 64 * 1024


@dataclass(frozen=True)
class ActivityOutcome:
    result: str | None = None
    failure: FailureDetails | None = None
    #: What the activity logged while it ran (through ``logging``, at the configured level).
    logs: str = ""


class PayloadTooLargeError(ValueError):
    pass


def check_payload_size(payload: str | None, what: str) -> None:
    if payload is None:
        return
    limit = settings.PERDURA_MAX_PAYLOAD_BYTES
    size = len(payload.encode())
    if size > limit:
        raise PayloadTooLargeError(f"{what} is {size:,} bytes, over the limit of {limit:,} (PERDURA_MAX_PAYLOAD_BYTES)")


def is_known_activity(name: str) -> bool:
    return name == HTTP_ACTIVITY_NAME or registry.has(FunctionKind.ACTIVITY, name)


def run_activity(name: str, input_json: str | None) -> ActivityOutcome:
    with captured_logs() as logs:
        try:
            func = (
                builtins.http_activity if name == HTTP_ACTIVITY_NAME else registry.get(FunctionKind.ACTIVITY, name).func
            )
            result = func(loads(input_json))
            serialized = dumps(result, f"the result of activity {name!r}")
            check_payload_size(serialized, f"the result of activity {name!r}")
        except Exception as error:  # An activity's failure, its result's too, is data for its orchestrator.
            return ActivityOutcome(failure=FailureDetails.from_exception(error), logs=logs.text())
    return ActivityOutcome(result=serialized, logs=logs.text())


class LogCollector:
    """The log lines of one activity run."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.size = 0

    def add(self, line: str) -> None:
        if self.size <= MAX_LOG_CHARACTERS:
            self.lines.append(line)
            self.size += len(line) + 1

    def text(self) -> str:
        text = "\n".join(self.lines)
        if len(text) > MAX_LOG_CHARACTERS:
            text = text[:MAX_LOG_CHARACTERS] + f"\n[cut at {MAX_LOG_CHARACTERS:,} characters]"
        return storable(text)


class _ActivityLogs(logging.Handler):
    """One handler on the root logger, for the whole process: it hands each record to the
    collector of the activity running on the record's thread, if any. (Adding and removing a
    handler around every run would take the logging module's lock twice per activity.)"""

    def __init__(self) -> None:
        super().__init__()
        self.running = threading.local()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        collector = getattr(self.running, "collector", None)
        if collector is not None:
            collector.add(self.format(record))


_handler = _ActivityLogs()


@contextmanager
def captured_logs() -> Iterator[LogCollector]:
    root = logging.getLogger()
    if _handler not in root.handlers:  # Logging set up again (dictConfig) drops it.
        root.addHandler(_handler)
    collector = LogCollector()
    _handler.running.collector = collector
    try:
        yield collector
    finally:
        _handler.running.collector = None
