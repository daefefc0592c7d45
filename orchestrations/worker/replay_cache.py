"""What this worker process keeps of the instances it last checkpointed: their history and
their live replay, so that the next episode of a hot instance reads no history and replays
nothing (it feeds the new events to the generator where it stopped)."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrations import engine
from orchestrations.engine.executor import Replay
from orchestrations.models import HistoryRow, Instance
from orchestrations.store.bulk import in_keys, key_params, keys_count, select_values

if TYPE_CHECKING:
    from orchestrations.worker.episodes import EpisodePlan


@dataclass
class CachedReplay:
    """An instance's history as committed, and the replay that produced it, if still usable;
    in the cache, also the instance row as this worker committed it."""

    history: list[engine.HistoryEvent]
    replay: Replay | None = None
    instance: Instance | None = None


class ReplayCache:
    """An entry is used only while the instance row still shows the execution, history length
    and update time this worker left it with: if anyone else has written to the instance since
    (another worker after a lease expiry, a rewind), its history is read again and replayed.
    A live replay is taken out while an episode uses it and put back only once that episode
    has been committed, so a failed checkpoint can never leave an advanced replay behind."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[tuple, CachedReplay]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(instance: Instance) -> tuple:
        return (instance.execution_id, instance.history_length, instance.updated_at)

    def take_many(self, instances: Iterable[Instance]) -> dict[str, CachedReplay]:
        found: dict[str, CachedReplay] = {}
        missing = []
        with self._lock:
            for instance in instances:
                entry = self._entries.pop(instance.pk, None)
                if entry is not None and entry[0] == self._key(instance):
                    found[instance.pk] = entry[1]
                else:
                    found[instance.pk] = CachedReplay([])
                    if instance.history_length:  # A new instance has none to read.
                        missing.append(instance.pk)
        if missing:
            for instance_id, *event in select_values(
                HistoryRow,
                ["instance_id", "event_type", "timestamp", "task_id", "name", "data", "details"],
                f"instance_id {in_keys(keys_count(missing))}",
                key_params(missing),
                order_by="instance_id, sequence",
            ):
                found[instance_id].history.append(HistoryRow.engine_event(*event))
        return found

    def rows_of_sole_answers(self, answered: Mapping[str, Collection[int]]) -> dict[str, Instance]:
        """For each instance (by id) whose live replay here waits on these answered calls and
        on nothing else, so that no other worker is about to answer it too: a copy of its row
        as this worker last committed it. That is what the row still is unless someone else
        wrote it since, which the caller must check under the row's lock before trusting
        anything it did with it; it takes the replays with ``take_exact``."""
        rows = {}
        with self._lock:  # Taken out of the cache, a replay moves on: look at it only in here.
            for instance_id, task_ids in answered.items():
                entry = self._entries.get(instance_id)
                replay = entry[1] if entry is not None else None
                if (
                    replay is not None
                    and replay.instance is not None
                    and replay.replay is not None
                    and replay.replay.open_task_ids <= set(task_ids)
                ):
                    rows[instance_id] = replay.instance
        return {instance_id: copy.copy(instance) for instance_id, instance in rows.items()}

    def take_exact(self, instances: Iterable[Instance]) -> dict[str, CachedReplay] | None:
        """Take the entries of these instances if each is still the one for exactly this row
        (as ``rows_of_sole_answers`` gave it); take none and return None otherwise."""
        instances = list(instances)
        with self._lock:
            entries = [self._entries.get(instance.pk) for instance in instances]
            pairs = list(zip(instances, entries, strict=True))
            if any(entry is None or entry[0] != self._key(instance) for instance, entry in pairs):
                return None
            for instance in instances:
                del self._entries[instance.pk]
        return {instance.pk: entry[1] for instance, entry in pairs}

    def remember(self, plan: EpisodePlan) -> None:
        instance = plan.instance  # As the checkpoint left it: the row as now committed.
        if instance.status.is_terminal or plan.reset_history:
            return
        history = [*plan.past_history(), *plan.history]
        live = plan.replay if plan.replay is not None and plan.replay.completion is None else None
        with self._lock:
            # The plan is done with: its instance object is the cache's from here on.
            self._entries[instance.pk] = (self._key(instance), CachedReplay(history, live, instance))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


replay_cache = ReplayCache()
