"""The timer schedules page live: a schedule paused elsewhere shows paused on open pages."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from functions.services import timers
from functions.worker.timers import sync_timers
from tests import function_apps_timers as apps
from tests.consoleapp.test_consumer import (  # noqa: F401  (the fixture closes the sync thread's connections)
    close_connections_of_the_sync_thread,
    communicator,
    first_push,
    next_push,
    session_for,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_the_schedules_page_is_pushed_a_schedule_paused_elsewhere():
    await sync_to_async(sync_timers)()
    session = await sync_to_async(session_for)("vera", "viewer")
    socket = communicator("/ws/console/?page=schedules", session)
    assert (await socket.connect())[0]
    first = await first_push(socket)
    assert f'id="schedule-{apps.WITH_OUTPUT}"' in first

    await sync_to_async(timers.pause)(apps.WITH_OUTPUT, actor=None)
    push = await next_push(socket)

    section = push.split(f'id="schedule-{apps.WITH_OUTPUT}"', 1)[1].split("</section>", 1)[0]
    assert "paused</span>" in section
    await socket.disconnect()
