"""Running one activity: look it up, call it, serialize what it returns or raised."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


#: The collector of the function running in this context. A context variable, not a thread
#: local: an ``async def`` function runs on an event loop's thread, and asgiref carries the
#: caller's context there; each worker thread starts with a context of its own.
_running: ContextVar[LogCollector | None] = ContextVar("perdura_running_function_logs", default=None)


class _FunctionLogs(logging.Handler):
    """One handler on the root logger, for the whole process: it hands each record to the
    collector of the function running in the record's context, if any. (Adding and removing
    a handler around every run would take the logging module's lock twice per run.)"""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        collector = _running.get()
        if collector is not None:
            collector.add(self.format(record))


_handler = _FunctionLogs()


@contextmanager
def captured_logs() -> Iterator[LogCollector]:
    root = logging.getLogger()
    if _handler not in root.handlers:  # Logging set up again (dictConfig) drops it.
        root.addHandler(_handler)
    collector = LogCollector()
    token = _running.set(collector)
    try:
        yield collector
    finally:
        _running.reset(token)
