"""The live console's websocket consumer, through the real ASGI stack (origin check, session
authentication, routing): who may connect, what each page is pushed, and how bursts of
change notices are coalesced."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import Client

from consoleapp import consumers, live
from consoleapp.asgi import application
from orchestrations import services
from orchestrations.worker.loop import drain_all

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def session_for(username: str, *groups: str) -> str:
    user = User.objects.create_user(username)
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def communicator(path: str, session: str | None = None, origin: bytes = b"http://testserver") -> WebsocketCommunicator:
    cookie = f"csrftoken=test-csrf-token-0123456789abcdef;{f' sessionid={session}' if session else ''}"
    headers = [(b"origin", origin), (b"host", b"testserver"), (b"cookie", cookie.encode())]
    return WebsocketCommunicator(application, path, headers=headers)


async def frames_within(socket: WebsocketCommunicator, seconds: float) -> list[str]:
    """Every frame the consumer sends in the next ``seconds``."""
    frames: list[str] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        # receive_nothing only looks; receive_from would cancel the consumer on a timeout.
        if not await socket.receive_nothing(timeout=min(left, 0.05), interval=0.01):
            frames.append(await socket.receive_from())
    return frames


async def next_push(socket: WebsocketCommunicator, timeout: float = 2.0) -> str:
    """The frames of the next push (sent back to back), joined."""
    first = await socket.receive_from(timeout=timeout)
    return first + "".join(await frames_within(socket, 0.1))


async def first_push(socket: WebsocketCommunicator) -> str:
    """The push a page gets on connecting (everything it shows, to catch up)."""
    return await next_push(socket)


@pytest_asyncio.fixture(autouse=True)
async def close_connections_of_the_sync_thread():
    """The ORM calls made through sync_to_async (here and by the auth middleware) run in one
    shared thread, whose connections would keep the test database from being dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def viewer_session():
    return session_for("vera", "viewer")


async def test_anonymous_connections_are_refused():
    socket = communicator("/ws/console/?page=nav")

    connected, _ = await socket.connect()

    assert not connected


async def test_users_without_a_role_are_refused():
    session = await sync_to_async(session_for)("nobody")
    socket = communicator("/ws/console/?page=nav", session)

    connected, _ = await socket.connect()

    assert not connected


async def test_connections_from_other_sites_are_refused(viewer_session):
    socket = communicator("/ws/console/?page=nav", viewer_session, origin=b"https://evil.example")

    connected, _ = await socket.connect()

    assert not connected


async def test_a_list_page_is_pushed_a_new_instance(viewer_session):
    socket = communicator("/ws/console/?page=list", viewer_session)
    assert (await socket.connect())[0]
    assert 'id="instances-table"' in await first_push(socket)

    await sync_to_async(services.start)("echo_orchestrator", "hi", instance_id="new-one")
    push = await next_push(socket)

    assert 'hx-swap-oob="true"' in push
    assert "new-one" in push
    await socket.disconnect()


async def test_a_list_page_filtered_on_a_status_shows_only_that_status(viewer_session):
    await sync_to_async(services.start)("echo_orchestrator", "hi", instance_id="pending-one")
    socket = communicator("/ws/console/?page=list&status=Completed", viewer_session)
    await socket.connect()

    push = await first_push(socket)

    assert "pending-one" not in push
    await socket.disconnect()


async def test_an_instance_page_is_pushed_its_new_status_and_history(viewer_session):
    await sync_to_async(services.start)("echo_orchestrator", "hi", instance_id="watched")
    socket = communicator("/ws/console/?page=instance&id=watched&since=0", viewer_session)
    await socket.connect()
    assert "Pending" in await first_push(socket)

    await sync_to_async(drain_all)()
    push = "".join(await frames_within(socket, 1.0))  # The episodes' notices may come in two pushes.

    assert 'class="badge large completed">Completed<' in push
    assert "ExecutionCompleted" in push
    await socket.disconnect()


async def test_an_instance_page_ignores_other_instances(viewer_session):
    await sync_to_async(services.start)("echo_orchestrator", "hi", instance_id="watched")
    socket = communicator("/ws/console/?page=instance&id=watched&since=0", viewer_session)
    await socket.connect()
    await frames_within(socket, 0.5)  # The first push, and the one for the start's own notice.

    await get_channel_layer().group_send(live.GROUP, {"type": "perdura.change", "kind": "instance", "ids": ["other"]})

    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_a_burst_of_notices_is_pushed_at_most_twice(viewer_session):
    socket = communicator("/ws/console/?page=nav", viewer_session)
    await socket.connect()
    await first_push(socket)
    layer = get_channel_layer()

    for number in range(30):
        await layer.group_send(live.GROUP, {"type": "perdura.change", "kind": "instance", "ids": [f"i{number}"]})
    frames = await frames_within(socket, 1.0)

    # The first notice may go out at once; the ones arriving in its wake share the next push.
    assert 1 <= len(frames) <= 2
    assert all('id="nav-approvals"' in frame for frame in frames)
    await socket.disconnect()


async def test_pushes_are_spaced_by_the_interval(viewer_session):
    socket = communicator("/ws/console/?page=nav", viewer_session)
    await socket.connect()
    await first_push(socket)
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()

    times = []
    for number in range(3):
        await layer.group_send(live.GROUP, {"type": "perdura.change", "kind": "approval", "ids": [str(number)]})
        await socket.receive_from(timeout=2)
        times.append(loop.time())

    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert all(gap >= consumers.MIN_INTERVAL * 0.9 for gap in gaps)
    await socket.disconnect()


async def test_the_inbox_is_pushed_with_a_form_only_to_those_who_may_decide():
    import samples.approval  # noqa: F401  (registers approve_shipment)

    warehouse = await sync_to_async(session_for)("maria", "approver", "warehouse")
    accounting = await sync_to_async(session_for)("alan", "approver", "accounting")
    sockets = [communicator("/ws/console/?page=inbox", session) for session in (warehouse, accounting)]
    for socket in sockets:
        await socket.connect()
        await first_push(socket)

    await sync_to_async(services.start)("approve_shipment", {"order_id": "Z-9", "items": 1}, instance_id="z9")
    await sync_to_async(drain_all)()
    warehouse_push, accounting_push = ["".join(await frames_within(socket, 1.0)) for socket in sockets]

    assert "Ship order Z-9?" in warehouse_push
    assert 'name="csrfmiddlewaretoken" value="test-csrf-token-0123456789abcdef"' in warehouse_push
    assert 'name="decision" value="approve"' in warehouse_push
    assert "Ship order Z-9?" in accounting_push
    assert 'name="decision" value="approve"' not in accounting_push
    for socket in sockets:
        await socket.disconnect()


async def test_a_logged_out_user_stops_receiving_updates(viewer_session, monkeypatch):
    monkeypatch.setattr(consumers, "REAUTHORIZE_SECONDS", 0)
    socket = communicator("/ws/console/?page=nav", viewer_session)
    await socket.connect()
    await first_push(socket)

    await sync_to_async(Session.objects.all().delete)()
    await get_channel_layer().group_send(live.GROUP, {"type": "perdura.change", "kind": "approval", "ids": ["1"]})

    closed = await socket.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHORIZED}


async def test_a_user_may_keep_only_so_many_live_pages_open(viewer_session, settings):
    settings.PERDURA_MAX_LIVE_PAGES_PER_USER = 2
    other = await sync_to_async(session_for)("olga", "viewer")
    first, second, third = (communicator("/ws/console/?page=nav", viewer_session) for _ in range(3))

    assert (await first.connect())[0] and (await second.connect())[0]
    assert not (await third.connect())[0]
    others_page = communicator("/ws/console/?page=nav", other)
    assert (await others_page.connect())[0]  # The cap is per user.

    await first.disconnect()
    again = communicator("/ws/console/?page=nav", viewer_session)
    assert (await again.connect())[0]  # A page closed frees its place.
    for socket in (second, others_page, again):
        await socket.disconnect()


async def test_below_the_cap_every_page_of_a_user_is_live(viewer_session, settings):
    settings.PERDURA_MAX_LIVE_PAGES_PER_USER = 3
    sockets = [communicator("/ws/console/?page=nav", viewer_session) for _ in range(3)]

    assert [(await socket.connect())[0] for socket in sockets] == [True, True, True]
    for socket in sockets:
        await socket.disconnect()
