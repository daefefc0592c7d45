"""The live console's websocket consumer.

Every open console page holds one websocket (``/ws/console/?page=...``); its address says what
the page shows: a list filter, one instance, the inbox. The consumer listens to the change
notices that workers and services publish after they commit (``consoleapp.live``), keeps the
ones that concern its page, and pushes the page's regions again as htmx out-of-band swaps,
rendered from the same template partials as the page itself.

Pushes are coalesced: notices pile up while a push is being rendered or while the connection
waits out its interval, and then go out as one push. The interval is at least
``MIN_INTERVAL`` and grows with the render time, so a busy engine or an expensive page cannot
flood a browser or the database. On connecting (also after a reconnect) the consumer pushes
the whole page once, which catches up on whatever happened while it was not listening.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from importlib import import_module
from typing import ClassVar

from channels.auth import get_user
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import connections
from django.http import QueryDict
from django.template.loader import render_to_string

from consoleapp import live
from consoleapp.pages.approvals import render_inbox_live
from consoleapp.pages.entities import render_detail_live, render_list_live
from consoleapp.pages.functions import render_function_live
from consoleapp.pages.instance import render_instance_live
from consoleapp.pages.instances import render_list_update
from consoleapp.pages.overview import render_overview_live
from consoleapp.pages.queues import concerns
from consoleapp.pages.queues import render_detail_live as render_queue_live
from consoleapp.pages.queues import render_list_live as render_queues_live
from consoleapp.pages.schedules import render_schedules_live
from consoleapp.pages.workers import render_workers_live
from orchestrations.access import roles
from orchestrations.store import notices

logger = logging.getLogger(__name__)

#: At most one push per connection in this many seconds.
MIN_INTERVAL = 0.25
#: However slow a page renders, it is pushed at least this often while things change.
MAX_INTERVAL = 5.0
#: How often an open connection checks that its user is still logged in and allowed.
REAUTHORIZE_SECONDS = 30.0
#: Closing code telling the page that its user was logged out or lost access (no reconnect).
CLOSE_UNAUTHORIZED = 4401

#: Live pages each user holds open in this server process. Counted on the process's one event
#: loop, so no lock is needed; with several web processes the cap holds in each of them.
_open_pages: Counter[int] = Counter()


def in_thread(func):
    """Run blocking ORM and template work in a thread of the default executor rather than the
    one thread that ``database_sync_to_async`` shares with every view, so that connections
    render side by side. The thread's database connection is closed afterwards: pool threads
    come and go, and their connections would otherwise stay open with nobody to reuse them."""

    def run_and_close(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return DatabaseSyncToAsync(run_and_close, thread_sensitive=False)


@dataclass
class Changes:
    """What changed since the last push (``everything`` for the first push and refreshes)."""

    everything: bool = False
    instances: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    approvals: set[str] = field(default_factory=set)
    #: Functions with new invocations.
    invocations: set[str] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)
    #: Timer schedules that changed (paused, resumed, run).
    schedules: set[str] = field(default_factory=set)

    def add(self, kind: str, ids: list[str]) -> None:
        {
            notices.INSTANCE: self.instances,
            notices.ENTITY: self.entities,
            notices.APPROVAL: self.approvals,
            notices.INVOCATION: self.invocations,
            notices.QUEUE: self.queues,
            notices.SCHEDULE: self.schedules,
        }[kind].update(ids)

    def __bool__(self) -> bool:
        return self.everything or bool(
            self.instances or self.entities or self.approvals or self.invocations or self.queues or self.schedules
        )


class LivePage:
    """What one open page shows and how to render its live regions. Subclasses name the kinds
    of notice they care about; every page keeps the navigation's approvals badge current."""

    kinds: ClassVar[frozenset[str]] = frozenset({notices.INSTANCE, notices.APPROVAL})
    refresh_seconds: ClassVar[float | None] = None

    def __init__(self, params: QueryDict, user, csrf_token: str | None) -> None:
        self.params = params
        self.user = user
        self.csrf_token = csrf_token

    def wants(self, kind: str, ids: list[str]) -> bool:
        return kind in self.kinds or kind in (notices.INSTANCE, notices.APPROVAL)

    def render(self, changes: Changes) -> list[str]:
        """The push for these changes: websocket frames, each a run of out-of-band swaps."""
        frames = self.render_page(changes)
        if changes.everything or changes.approvals or changes.instances:
            frames.append(render_to_string("base.html#nav-approvals", {"user": self.user, "oob": True}))
        return [frame for frame in frames if frame.strip()]

    def render_page(self, changes: Changes) -> list[str]:
        return []


class LiveOverview(LivePage):
    refresh_seconds = 5.0

    def render_page(self, changes: Changes) -> list[str]:
        return [render_overview_live(self.user, self.csrf_token)]


class LiveWorkers(LivePage):
    refresh_seconds = 5.0

    def render_page(self, changes: Changes) -> list[str]:
        return [render_workers_live(self.user, self.csrf_token)]


class LiveInstanceList(LivePage):
    def __init__(self, params: QueryDict, user, csrf_token: str | None) -> None:
        super().__init__(params, user, csrf_token)
        self.shown: list[str] | None = None

    def render_page(self, changes: Changes) -> list[str]:
        frames, self.shown = render_list_update(
            self.params,
            self.user,
            self.csrf_token,
            shown=None if changes.everything else self.shown,
            changed=changes.instances,
        )
        return frames


class LiveInstance(LivePage):
    def __init__(self, params: QueryDict, user, csrf_token: str | None) -> None:
        super().__init__(params, user, csrf_token)
        self.instance_id = params.get("id", "")
        try:
            self.since = int(params.get("since", "0"))
        except ValueError:
            self.since = 0
        self.execution_id = params.get("execution", "")
        self.children: set[str] = set()

    def wants(self, kind: str, ids: list[str]) -> bool:
        if kind == notices.INSTANCE:
            # Sub-orchestrations show on this page; their default ids extend the parent's.
            child_prefix = f"{self.instance_id}:"
            return any(i == self.instance_id or i in self.children or i.startswith(child_prefix) for i in ids)
        return kind == notices.APPROVAL

    def render_page(self, changes: Changes) -> list[str]:
        frames, self.children = render_instance_live(
            self.instance_id, self.user, self.csrf_token, since=self.since, execution_id=self.execution_id
        )
        return frames


class LiveInbox(LivePage):
    def render_page(self, changes: Changes) -> list[str]:
        return [render_inbox_live(self.user, self.csrf_token)]


class LiveEntityList(LivePage):
    kinds = frozenset({notices.ENTITY})

    def render_page(self, changes: Changes) -> list[str]:
        if not (changes.everything or changes.entities):
            return []
        return [render_list_live(self.params, self.user, self.csrf_token)]


class LiveEntity(LivePage):
    def __init__(self, params: QueryDict, user, csrf_token: str | None) -> None:
        super().__init__(params, user, csrf_token)
        self.entity_id = params.get("id", "")

    def wants(self, kind: str, ids: list[str]) -> bool:
        return (kind == notices.ENTITY and self.entity_id in ids) or super().wants(kind, ids)

    def render_page(self, changes: Changes) -> list[str]:
        if not (changes.everything or self.entity_id in changes.entities):
            return []
        return [render_detail_live(self.entity_id, self.user, self.csrf_token)]


class LiveFunction(LivePage):
    """A function's page: its counts, charts and invocations, pushed when it has new ones."""

    def __init__(self, params: QueryDict, user, csrf_token: str | None) -> None:
        super().__init__(params, user, csrf_token)
        self.function_name = params.get("name", "")

    def wants(self, kind: str, ids: list[str]) -> bool:
        return (kind == notices.INVOCATION and self.function_name in ids) or super().wants(kind, ids)

    def render_page(self, changes: Changes) -> list[str]:
        if not (changes.everything or self.function_name in changes.invocations):
            return []
        return [render_function_live(self.function_name, self.params, self.user, self.csrf_token)]


class LiveQueues(LivePage):
    kinds = frozenset({notices.QUEUE})
    #: The oldest messages' ages grow with no notice to say so.
    refresh_seconds = 10.0

    def render_page(self, changes: Changes) -> list[str]:
        if not (changes.everything or changes.queues):
            return []
        return [render_queues_live(self.user, self.csrf_token)]


class LiveSchedules(LivePage):
    kinds = frozenset({notices.SCHEDULE})
    #: "Next occurrences" move on with the clock, with no notice to say so.
    refresh_seconds = 30.0

    def render_page(self, changes: Changes) -> list[str]:
        if not (changes.everything or changes.schedules):
            return []
        return [render_schedules_live(self.user, self.csrf_token)]


class LiveQueue(LivePage):
    def __init__(self, params: QueryDict, user, csrf_token: str | None) -> None:
        super().__init__(params, user, csrf_token)
        self.queue = params.get("name", "")

    def wants(self, kind: str, ids: list[str]) -> bool:
        return (kind == notices.QUEUE and concerns(self.queue, set(ids))) or super().wants(kind, ids)

    def render_page(self, changes: Changes) -> list[str]:
        if not (changes.everything or concerns(self.queue, changes.queues)):
            return []
        return [render_queue_live(self.queue, self.user, self.csrf_token)]


PAGES: dict[str, type[LivePage]] = {
    "overview": LiveOverview,
    "workers": LiveWorkers,
    "list": LiveInstanceList,
    "instance": LiveInstance,
    "inbox": LiveInbox,
    "entities": LiveEntityList,
    "entity": LiveEntity,
    "function": LiveFunction,
    "queues": LiveQueues,
    "queue": LiveQueue,
    "schedules": LiveSchedules,
    "nav": LivePage,
}


def _may_view(user) -> bool:
    return bool(user is not None and user.is_authenticated and roles.can(user, "view_console"))


class ConsoleConsumer(AsyncWebsocketConsumer):
    """One open console page: authenticated, subscribed to the change notices, pushing its
    regions when they change."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await in_thread(_may_view)(user):
            await self.close()  # Before accepting: the handshake is refused with a 403.
            return
        if _open_pages[user.pk] >= settings.PERDURA_MAX_LIVE_PAGES_PER_USER:
            # Each open page costs a task and renders on every change: one user's thousand
            # sockets would starve everyone else's pages.
            logger.warning("refused a live page to %s: %d already open", user.get_username(), _open_pages[user.pk])
            await self.close()
            return
        _open_pages[user.pk] += 1
        self.counted_user = user.pk
        params = QueryDict(self.scope.get("query_string", b"").decode("latin-1"))
        csrf_token = self.scope.get("cookies", {}).get(settings.CSRF_COOKIE_NAME)
        self.page = PAGES.get(params.get("page", ""), LivePage)(params, user, csrf_token)
        self.pending = Changes(everything=True)
        self.wakeup = asyncio.Event()
        self.interval = MIN_INTERVAL
        self.last_push = 0.0
        self.last_authorized = asyncio.get_running_loop().time()
        await self.channel_layer.group_add(live.GROUP, self.channel_name)
        await self.accept()
        self.tasks = [asyncio.create_task(self._push_forever())]
        if self.page.refresh_seconds:
            self.tasks.append(asyncio.create_task(self._refresh_forever(self.page.refresh_seconds)))
        self.wakeup.set()  # The first push: everything, to catch up on what the page missed.

    async def disconnect(self, code: int) -> None:
        counted = getattr(self, "counted_user", None)
        if counted is not None:
            self.counted_user = None
            _open_pages[counted] -= 1
            if _open_pages[counted] <= 0:
                del _open_pages[counted]
        for task in getattr(self, "tasks", []):
            task.cancel()
        if hasattr(self, "page"):
            await self.channel_layer.group_discard(live.GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Pages send nothing; anything received is ignored."""

    async def perdura_change(self, event: dict) -> None:
        """A change notice from ``consoleapp.live``: note it if this page shows it."""
        kind, ids = event.get("kind"), list(event.get("ids") or [])
        known = (
            notices.INSTANCE,
            notices.ENTITY,
            notices.APPROVAL,
            notices.INVOCATION,
            notices.QUEUE,
            notices.SCHEDULE,
        )
        if kind not in known or not self.page.wants(kind, ids):
            return
        self.pending.add(kind, ids)
        self.wakeup.set()

    async def _refresh_forever(self, seconds: float) -> None:
        """Pages showing what no notice announces (heartbeats, queue depths) refresh on a timer."""
        while True:
            await asyncio.sleep(seconds)
            self.pending.everything = True
            self.wakeup.set()

    async def _push_forever(self) -> None:
        try:
            while True:
                await self.wakeup.wait()
                self.wakeup.clear()
                if not await self._push_pending():
                    await self.close(code=CLOSE_UNAUTHORIZED)
                    return
        except Exception:
            # The page would stop updating without a word: close with "internal error" instead,
            # and the ws extension reconnects (with backoff) and catches up.
            logger.exception("the live updates of %s stopped", self.scope.get("query_string"))
            await self.close(code=1011)

    async def _push_pending(self) -> bool:
        """Wait out the interval, then push what is pending; False if the user lost access."""
        loop = asyncio.get_running_loop()
        wait = self.last_push + self.interval - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)  # Notices arriving meanwhile join this push.
        changes, self.pending = self.pending, Changes()
        if not changes:
            return True
        if not await self._still_authorized():
            return False
        started = loop.time()
        frames = await in_thread(self.page.render)(changes)
        self.interval = min(max(MIN_INTERVAL, 2 * (loop.time() - started)), MAX_INTERVAL)
        self.last_push = loop.time()
        for frame in frames:
            await self.send(text_data=frame)
        return True

    async def _still_authorized(self) -> bool:
        """Re-read the session now and then: a logged-out user, or one whose role was taken
        away, stops receiving updates."""
        now = asyncio.get_running_loop().time()
        if now - self.last_authorized < REAUTHORIZE_SECONDS:
            return True
        self.last_authorized = now
        if "session" in self.scope:
            # A fresh read: the scope's session object caches what it loaded on connecting.
            store = import_module(settings.SESSION_ENGINE).SessionStore
            user = await get_user({"session": store(session_key=self.scope["session"].session_key)})
        else:
            user = await in_thread(_reloaded)(self.page.user)
        if user is None or user.pk != self.page.user.pk or not await in_thread(_may_view)(user):
            return False
        self.page.user = user
        return True


def _reloaded(user):
    return type(user).objects.filter(pk=user.pk, is_active=True).first()
