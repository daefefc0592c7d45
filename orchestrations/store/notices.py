"""Change notices: which instances, entities, approvals, invocations, queues and schedules
a commit changed.

The core (the services and the workers) publishes them once its writes are committed; whoever
wants to know subscribes at start-up (the console, which pushes the changes to open pages:
consoleapp/live.py). Nothing here knows who listens, and a subscriber must return at once:
notices are published on the engine's hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

INSTANCE, ENTITY, APPROVAL = "instance", "entity", "approval"
#: Functions that have new invocations (ids are function names), queues whose messages changed
#: (ids are queue names), and timer schedules that changed (ids are function names).
INVOCATION, QUEUE, SCHEDULE = "invocation", "queue", "schedule"

#: Called with a kind and the ids of that kind that changed.
Subscriber = Callable[[str, list[str]], None]

_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def publish(kind: str, ids: Iterable[str]) -> None:
    """Tell the subscribers that these instances, entities or approvals changed."""
    ids = list(ids)
    if ids:
        for subscriber in _subscribers:
            subscriber(kind, ids)


def publish_on_commit(kind: str, ids: Iterable[str]) -> None:
    """``publish`` once the current transaction commits (at once outside one)."""
    ids = list(ids)
    transaction.on_commit(lambda: publish(kind, ids))
