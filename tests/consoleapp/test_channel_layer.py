"""The embedded mode's channel layer: a notice sent from a worker thread (which runs its own
event loop) reaches a consumer waiting on the server's loop at once."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync

from consoleapp.channel_layers import ThreadSafeInMemoryChannelLayer

pytestmark = pytest.mark.asyncio


async def test_a_group_send_from_another_thread_wakes_the_receiver_at_once():
    layer = ThreadSafeInMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("changes", channel)
    receiving = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0.01)  # The receiver is waiting now.
    loop = asyncio.get_running_loop()
    started = loop.time()

    # Like a worker thread: nothing it does wakes this loop unless the layer hands the send over.
    threading.Thread(target=async_to_sync(layer.group_send), args=("changes", {"type": "x", "ids": ["a"]})).start()
    message = await asyncio.wait_for(receiving, timeout=2.0)

    assert message == {"type": "x", "ids": ["a"]}
    assert loop.time() - started < 0.2


async def test_sends_on_the_receiving_loop_stay_direct():
    layer = ThreadSafeInMemoryChannelLayer()
    channel = await layer.new_channel()
    receiving = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0.01)

    await layer.send(channel, {"type": "hello"})

    assert await asyncio.wait_for(receiving, timeout=0.2) == {"type": "hello"}
