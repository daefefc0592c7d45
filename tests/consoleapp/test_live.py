"""consoleapp.live: the change notices workers publish reach the console's group, a burst
merged into one message, burst after burst, from the publisher's own event loop."""

from __future__ import annotations

import asyncio

import pytest

from consoleapp import live
from consoleapp.channel_layers import ThreadSafeInMemoryChannelLayer
from orchestrations.store import notices

pytestmark = pytest.mark.asyncio


class FailingOnce(ThreadSafeInMemoryChannelLayer):
    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def group_send(self, group: str, message: dict) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the channel layer is down")
        await super().group_send(group, message)


async def listening(layer: ThreadSafeInMemoryChannelLayer) -> str:
    channel = await layer.new_channel()
    await layer.group_add(live.GROUP, channel)
    return channel


async def test_each_burst_of_notices_reaches_the_group_as_one_message(monkeypatch):
    layer = ThreadSafeInMemoryChannelLayer()
    monkeypatch.setattr(live, "get_channel_layer", lambda: layer)
    channel = await listening(layer)

    for burst in (["b", "a"], ["c"], ["e", "d", "e"]):
        for instance_id in burst:
            live.publish(notices.INSTANCE, [instance_id])
        message = await asyncio.wait_for(layer.receive(channel), timeout=2.0)

        assert message == {"type": "perdura.change", "kind": "instance", "ids": sorted(set(burst))}


async def test_a_send_that_fails_is_dropped_and_the_next_burst_goes_out(monkeypatch):
    layer = FailingOnce()
    monkeypatch.setattr(live, "get_channel_layer", lambda: layer)
    channel = await listening(layer)

    live.publish(notices.ENTITY, ["lost"])
    await asyncio.sleep(live.COALESCE_SECONDS * 4)
    live.publish(notices.ENTITY, ["kept"])
    message = await asyncio.wait_for(layer.receive(channel), timeout=2.0)

    assert layer.failures == 0
    assert message["ids"] == ["kept"]


async def test_a_notice_the_core_publishes_reaches_the_console_which_subscribed_at_start_up(monkeypatch):
    """The core knows nothing of the console: it publishes to orchestrations.store.notices,
    and the console's subscription (ConsoleConfig.ready) carries it to the open pages."""
    layer = ThreadSafeInMemoryChannelLayer()
    monkeypatch.setattr(live, "get_channel_layer", lambda: layer)
    channel = await listening(layer)

    notices.publish(notices.APPROVAL, ["7"])
    message = await asyncio.wait_for(layer.receive(channel), timeout=2.0)

    assert message == {"type": "perdura.change", "kind": "approval", "ids": ["7"]}
