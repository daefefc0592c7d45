"""What this worker process keeps of the instances it last checkpointed: their history and
their live replay, so that the next episode of a hot instance reads no history and replays
nothing (it feeds the new events to the generator where it stopped)."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import engine
from ..bulk import in_keys, key_params, keys_count, select_values
from ..engine.executor import Episode
from ..models import HistoryEvent, Instance

if TYPE_CHECKING:
    from .episodes import EpisodePlan


@dataclass
class Replay:
    """An instance's history as committed, and the replay that produced it, if still usable;
    in the cache, also the instance row as this worker committed it."""

    history: list[engine.HistoryEvent]
    episode: Episode | None = None
    instance: Instance | None = None


class ReplayCache:
    """An entry is used only while the instance row still shows the execution, history length
    and update time this worker left it with: if anyone else has written to the instance since
    (another worker after a lease expiry, a rewind), its history is read again and replayed.
    A live replay is taken out while an episode uses it and put back only once that episode
    has been committed, so a failed checkpoint can never leave an advanced replay behind."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[tuple, Replay]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(instance: Instance) -> tuple:
        return (instance.execution_id, instance.history_length, instance.updated_at)

    def take_many(self, instances: Iterable[Instance]) -> dict[str, Replay]:
        found: dict[str, Replay] = {}
        missing = []
        with self._lock:
            for instance in instances:
                entry = self._entries.pop(instance.pk, None)
                if entry is not None and entry[0] == self._key(instance):
                    found[instance.pk] = entry[1]
                else:
                    missing.append(instance.pk)
        if missing:
            for instance_id in missing:
                found[instance_id] = Replay([])
            for instance_id, *event in select_values(
                HistoryEvent,
                ["instance_id", "event_type", "timestamp", "task_id", "name", "data", "details"],
                f"instance_id {in_keys(keys_count(missing))}",
                key_params(missing),
                order_by="instance_id, sequence",
            ):
                found[instance_id].history.append(HistoryEvent.engine_event(*event))
        return found

    def committed_rows(self, instance_ids: Iterable[str]) -> dict[str, Instance]:
        """A copy of each of these instance rows as this worker last committed it, for those it
        has an entry for: what the row still is unless someone else wrote it since, which a
        caller must check (under the row's lock) before trusting anything it did with it."""
        with self._lock:
            entries = [(instance_id, self._entries.get(instance_id)) for instance_id in instance_ids]
        return {
            instance_id: copy.copy(entry[1].instance)
            for instance_id, entry in entries
            if entry is not None and entry[1].instance is not None
        }

    def remember(self, plan: EpisodePlan) -> None:
        instance = plan.instance  # As the checkpoint left it: the row as now committed.
        if instance.status.is_terminal or plan.reset_history:
            return
        history = [*plan.past_history(), *plan.history]
        episode = plan.episode if plan.episode is not None and plan.episode.completion is None else None
        with self._lock:
            # The plan is done with: its instance object is the cache's from here on.
            self._entries[instance.pk] = (self._key(instance), Replay(history, episode, instance))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


replay_cache = ReplayCache()
