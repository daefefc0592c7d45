"""Change notices for the live console: the console's subscriber to the core's notices.

After a checkpoint commits, the worker (or a service) publishes a small notice naming what
changed (orchestrations/store/notices.py); this module, subscribed at start-up, passes it on
through the channel layer to the console's websocket consumers, which decide what their page
shows and re-render it, coalescing bursts. It never gets in the engine's way: notices are handed to a
background thread that merges those of the last moment and sends them together, and with no
channel layer, or one that is down, they are dropped and pages catch up on their next refresh.

The thread sends from an event loop of its own that lives as long as it does: the Redis
channel layer keeps its connections per event loop, and ``async_to_sync`` would make a new
loop, and so a new connection, for every send (4.4 ms of CPU each, against 0.4 ms).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

GROUP = "perdura.changes"
#: How long the publisher gathers notices before sending them as one.
COALESCE_SECONDS = 0.05


class _Publisher(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="perdura-live-publisher", daemon=True)
        self.notices: queue.SimpleQueue[tuple[str, list[str]]] = queue.SimpleQueue()

    def run(self) -> None:
        loop = asyncio.new_event_loop()
        while True:
            kind, ids = self.notices.get()
            pending: dict[str, set[str]] = {kind: set(ids)}
            try:
                while True:
                    kind, ids = self.notices.get(timeout=COALESCE_SECONDS)
                    pending.setdefault(kind, set()).update(ids)
            except queue.Empty:
                pass
            for kind, ids in pending.items():
                _send(loop, kind, sorted(ids))


def _send(loop: asyncio.AbstractEventLoop, kind: str, ids: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop.run_until_complete(layer.group_send(GROUP, {"type": "perdura.change", "kind": kind, "ids": ids}))
    except Exception:  # A console that cannot be told is no reason to fail anything.
        logger.debug("could not publish a %s change notice", kind, exc_info=True)


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def publish(kind: str, ids: list[str]) -> None:
    """Tell open console pages, shortly, that these instances, entities or approvals changed
    (a notices subscriber: see ConsoleConfig.ready)."""
    global _publisher
    if _publisher is None or not _publisher.is_alive():
        with _publisher_lock:
            if _publisher is None or not _publisher.is_alive():
                _publisher = _Publisher()
                _publisher.start()
    _publisher.notices.put((kind, ids))
