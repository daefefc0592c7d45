"""The Queues pages live: a message put elsewhere shows on open pages without a reload."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from functions.services import queues
from tests.consoleapp.test_consumer import (  # noqa: F401  (the fixture closes the sync thread's connections)
    close_connections_of_the_sync_thread,
    communicator,
    first_push,
    next_push,
    session_for,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_the_queues_page_is_pushed_the_new_depth_of_a_queue():
    session = await sync_to_async(session_for)("vera", "viewer")
    socket = communicator("/ws/console/?page=queues", session)
    assert (await socket.connect())[0]
    assert 'id="queue-tests-queues-echo-depth">0<' in await first_push(socket)

    await sync_to_async(queues.put)("tests-queues-echo", "hello", actor=None)
    push = await next_push(socket)

    assert 'id="queue-tests-queues-echo-depth">1<' in push
    await socket.disconnect()


async def test_a_queue_page_is_pushed_its_poison_queue_changes_but_not_other_queues():
    session = await sync_to_async(session_for)("vera", "viewer")
    socket = communicator("/ws/console/?page=queue&name=tests-queues-doomed", session)
    assert (await socket.connect())[0]
    await first_push(socket)

    await sync_to_async(queues.put)("tests-queues-echo", "elsewhere", actor=None)
    assert await socket.receive_nothing(timeout=0.5)
    await sync_to_async(queues.put)("tests-queues-doomed-poison", "bad one", actor=None)
    push = await next_push(socket)

    assert "bad one" in push
    await socket.disconnect()
