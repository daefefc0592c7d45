"""The histories this worker process last wrote, kept for the next episode of a hot instance."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .. import engine
from ..models import HistoryEvent, Instance

if TYPE_CHECKING:
    from .episodes import EpisodePlan


class HistoryCache:
    """The histories this worker process last wrote, so the next episode of a hot instance
    needs no history query. An entry is used only while the instance row still shows the
    execution, length and update time this worker left it with: if anyone else has written
    to it since (another worker after a lease expiry, a rewind), the history is read again."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[tuple, list[engine.HistoryEvent]]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(instance: Instance) -> tuple:
        return (instance.execution_id, instance.history_length, instance.updated_at)

    def get_many(self, instances: Iterable[Instance]) -> dict[str, list[engine.HistoryEvent]]:
        found: dict[str, list[engine.HistoryEvent]] = {}
        missing = []
        with self._lock:
            for instance in instances:
                entry = self._entries.get(instance.pk)
                if entry is not None and entry[0] == self._key(instance):
                    self._entries.move_to_end(instance.pk)
                    found[instance.pk] = list(entry[1])
                else:
                    missing.append(instance.pk)
        if missing:
            for instance_id in missing:
                found[instance_id] = []
            rows = HistoryEvent.objects.filter(instance_id__in=missing).order_by("instance_id", "sequence")
            for row in rows:
                found[row.instance_id].append(row.to_engine())
        return found

    def remember(self, plan: EpisodePlan) -> None:
        instance = plan.instance  # As _update_instances left it: the row as now committed.
        if instance.status.is_terminal:
            self.forget(instance.pk)
            return
        events = [*([] if plan.reset_history else plan._past_history()), *plan.history]
        with self._lock:
            self._entries[instance.pk] = (self._key(instance), events)
            self._entries.move_to_end(instance.pk)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, instance_id: str) -> None:
        with self._lock:
            self._entries.pop(instance_id, None)


history_cache = HistoryCache()
