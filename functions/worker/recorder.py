"""Invocation rows written in batches, off the request path.

An HTTP function answers as soon as it has run; its ``Invocation`` row joins a process-wide
buffer that a background thread writes with one ``bulk_create`` every ``FLUSH_SECONDS``, or
sooner once ``FLUSH_ROWS`` are waiting, and then tells the console which functions have new
invocations. What is still buffered when the process exits is written then (``atexit``, set
by the functions app); tests call ``flush()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from django.db import DatabaseError, IntegrityError, connections

from functions.models import Invocation
from orchestrations.store.notices import INVOCATION, publish

logger = logging.getLogger("perdura.functions")

FLUSH_SECONDS = 0.2
FLUSH_ROWS = 200
#: Rows kept while the database refuses them; past this, the oldest are dropped (and logged),
#: so that an outage cannot grow the web process without bound.
MAX_BUFFERED_ROWS = 20_000

_lock = threading.Lock()
#: Held by a flush from taking its rows to having written them, so that a flush that finds the
#: buffer empty because another one is writing waits for that write (``record`` never waits).
_writing = threading.Lock()
_buffer: list[Invocation] = []
_wake = threading.Event()
_flusher: threading.Thread | None = None


def record(invocation: Invocation) -> None:
    """Queue ``invocation`` to be written; returns at once."""
    with _lock:
        _buffer.append(invocation)
        waiting = len(_buffer)
        _start_flusher()
    if waiting >= FLUSH_ROWS:
        _wake.set()


def flush() -> int:
    """Write every buffered row now, in this thread, and return how many were written; once it
    returns, every row recorded before the call is written (or kept after a database error)."""
    with _writing:
        with _lock:
            rows = _buffer[:]
            _buffer.clear()
        return _write(rows)


def _start_flusher() -> None:
    global _flusher
    if _flusher is None or not _flusher.is_alive():
        _flusher = threading.Thread(target=_flush_forever, name="invocation-recorder", daemon=True)
        _flusher.start()


def _flush_forever() -> None:
    while True:
        _wake.wait(FLUSH_SECONDS)
        _wake.clear()
        try:
            flush()
        finally:
            # No idle connection held between batches: a test database can then be dropped,
            # and a server with many processes keeps its connection count down.
            connections.close_all()


def _write(rows: list[Invocation]) -> int:
    if not rows:
        return 0
    try:
        Invocation.objects.bulk_create(rows, batch_size=FLUSH_ROWS)
    except IntegrityError:
        # A row that can never be written (an invocation id already recorded): retrying the
        # batch would fail for ever, so it is dropped, and said so.
        logger.exception("could not write %d invocation rows; dropped them", len(rows))
        return 0
    except DatabaseError:
        logger.exception("could not write %d invocation rows; keeping them for the next flush", len(rows))
        _give_back(rows)
        return 0
    publish(INVOCATION, _names(rows))
    return len(rows)


def _give_back(rows: list[Invocation]) -> None:
    with _lock:
        _buffer[:0] = rows
        excess = len(_buffer) - MAX_BUFFERED_ROWS
        if excess > 0:
            del _buffer[:excess]
            logger.error("dropped the %d oldest unwritten invocation rows", excess)


def _names(rows: Iterable[Invocation]) -> list[str]:
    return sorted({row.function_name for row in rows})
