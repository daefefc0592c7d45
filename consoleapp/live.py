"""Change notices for the live console.

After a checkpoint commits, the worker (or a service) publishes a small notice naming what
changed; the console's websocket consumers decide what their page shows and re-render it,
coalescing bursts. Publishing never gets in the engine's way: with no channel layer, or one
that is down, the notice is dropped and pages catch up on their next refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

GROUP = "perdura.changes"
INSTANCE, ENTITY, APPROVAL = "instance", "entity", "approval"


def publish(kind: str, ids: Iterable[str]) -> None:
    """Tell open console pages that these instances, entities or approvals changed."""
    ids = sorted(set(ids))
    if not ids:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(GROUP, {"type": "perdura.change", "kind": kind, "ids": ids})
    except Exception:  # A console that cannot be told is no reason to fail a checkpoint.
        logger.debug("could not publish a %s change notice", kind, exc_info=True)


def publish_on_commit(kind: str, ids: Iterable[str]) -> None:
    ids = list(ids)
    transaction.on_commit(lambda: publish(kind, ids))
