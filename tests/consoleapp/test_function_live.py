"""A function's page, live: an INVOCATION notice naming the function re-renders its
invocations; notices for other functions do not."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from functions.services import run_by_hand
from orchestrations.access.audit import Actor
from tests.consoleapp.test_consumer import (  # noqa: F401  (the fixture is used by name)
    close_connections_of_the_sync_thread,
    communicator,
    first_push,
    frames_within,
    next_push,
    session_for,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_function_page_is_pushed_its_new_invocation():
    session = await sync_to_async(session_for)("vera", "viewer")
    socket = communicator("/ws/console/?page=function&name=console_double", session)
    assert (await socket.connect())[0]
    assert 'id="function-live"' in await first_push(socket)

    ran = await sync_to_async(run_by_hand.run)("console_double", 5, actor=Actor("t", "cli"))
    push = await next_push(socket)

    assert 'hx-swap-oob="true"' in push
    assert f'id="invocation-{ran.invocation.pk}"' in push
    await socket.disconnect()


async def test_a_function_page_is_not_pushed_other_functions_invocations():
    session = await sync_to_async(session_for)("vera", "viewer")
    socket = communicator("/ws/console/?page=function&name=console_double", session)
    assert (await socket.connect())[0]
    await first_push(socket)

    await sync_to_async(run_by_hand.run)("console_yearly", None, actor=Actor("t", "cli"))

    assert not [frame for frame in await frames_within(socket, 0.6) if "function-live" in frame]
    await socket.disconnect()
