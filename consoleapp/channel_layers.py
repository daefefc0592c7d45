"""The channel layer of the embedded mode: Channels' in-memory layer, made safe to publish to
from any thread.

In the embedded mode the workers are threads of the web process. Their change notices
(``consoleapp.live.publish``) reach the layer through ``async_to_sync``, which runs in an
event loop of the worker's own, while the websocket consumers wait on asyncio queues of the
server's loop. asyncio queues are not thread-safe: a message put from another loop is stored,
but the server's loop is not woken to deliver it, so a page learns of a change only when
something else wakes the loop, up to a second or more later. This layer hands every send to
the loop its consumers receive on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from channels.layers import InMemoryChannelLayer

#: A send that the receiving loop does not take within this long is dropped (the loop is busy
#: or shutting down); a notice is never worth holding a worker up for.
HANDOVER_TIMEOUT_SECONDS = 1.0


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._receiving_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel: str) -> dict:
        self._receiving_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def send(self, channel: str, message: dict) -> None:
        await self._on_receiving_loop(super().send(channel, message))

    async def group_send(self, group: str, message: dict) -> None:
        # The group's members are read on the receiving loop too, where they are changed.
        await self._on_receiving_loop(super().group_send(group, message))

    async def _on_receiving_loop(self, operation: Coroutine[Any, Any, None]) -> None:
        loop = self._receiving_loop
        if loop is None or loop is asyncio.get_running_loop() or not loop.is_running():
            await operation
            return
        handover = asyncio.run_coroutine_threadsafe(operation, loop)
        try:
            await asyncio.wait_for(asyncio.wrap_future(handover), HANDOVER_TIMEOUT_SECONDS)
        except TimeoutError:
            handover.cancel()
