"""Entities as orchestrations see them: ids, and the rules of critical sections.

An orchestration locks a set of entities (the lock request visits them in one canonical
order, so two orchestrations never wait on each other in a cycle), calls them while it holds
the lock, and releases it on leaving the ``with`` block. The rules are Durable Functions':
no nesting, no sub-orchestrations inside, only locked entities may be called, no two calls in
flight to one entity, and locked entities may not be signalled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrations.engine.events import EventType, HistoryEvent
from orchestrations.engine.failures import OrchestrationStateError
from orchestrations.engine.limits import MAX_ENTITY_ID_LENGTH, LimitError, check_name, check_text

if TYPE_CHECKING:
    from orchestrations.engine.executor import Replay


class InvalidEntityIdError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class EntityId:
    """An entity's address: its (case-insensitive) name and its (case-sensitive) key."""

    name: str
    key: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or "@" in self.name:
            raise InvalidEntityIdError(f"an entity name must be a non-empty string without '@', not {self.name!r}")
        if not isinstance(self.key, str) or not self.key:
            raise InvalidEntityIdError(f"an entity key must be a non-empty string, not {self.key!r}")
        try:
            check_name(self.name, "an entity name")
            check_text(self.key, "an entity key", MAX_ENTITY_ID_LENGTH, controls=True)
        except LimitError as error:
            raise InvalidEntityIdError(str(error)) from None
        length = len(self.name) + len(self.key) + 2
        if length > MAX_ENTITY_ID_LENGTH:
            raise InvalidEntityIdError(
                f"an entity id (@name@key) may have at most {MAX_ENTITY_ID_LENGTH} characters; this one has {length}"
            )
        object.__setattr__(self, "name", self.name.lower())

    def __str__(self) -> str:
        return f"@{self.name}@{self.key}"

    @classmethod
    def parse(cls, value: str | EntityId) -> EntityId:
        """Accept an EntityId or its string form ``@name@key``."""
        if isinstance(value, EntityId):
            return value
        if isinstance(value, str) and value.startswith("@") and value.count("@") >= 2:
            name, key = value[1:].split("@", 1)
            return cls(name, key)
        raise InvalidEntityIdError(f"{value!r} is not an entity id; use EntityId(name, key) or '@name@key'")


def is_entity_address(address: str) -> bool:
    return address.startswith("@")


class CriticalSection:
    """What ``yield ctx.lock_entities(...)`` returns; leaving its ``with`` block releases the locks."""

    def __init__(self, locks: LockState, entity_ids: tuple[str, ...]) -> None:
        self._locks = locks
        self.entity_ids = entity_ids

    def __enter__(self) -> CriticalSection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        self._locks.release(self.entity_ids)


class LockState:
    """The orchestration's locks during one replay, and the checks the rules need."""

    def __init__(self, replay: Replay) -> None:
        self._replay = replay
        self.held: tuple[str, ...] = ()
        self.requested: tuple[str, ...] = ()
        self.calls_in_flight: set[str] = set()

    @property
    def in_critical_section(self) -> bool:
        return bool(self.held or self.requested)

    def check_can_lock(self) -> None:
        if self.in_critical_section:
            raise OrchestrationStateError("critical sections cannot be nested: release the locks held first")

    def check_can_start_sub_orchestration(self) -> None:
        if self.in_critical_section:
            raise OrchestrationStateError("a critical section cannot start sub-orchestrations")

    def check_can_call(self, entity_id: str) -> None:
        if not self.in_critical_section:
            return
        if entity_id not in self.held:
            raise OrchestrationStateError(
                f"inside a critical section only the locked entities can be called; {entity_id} is not locked"
            )
        if entity_id in self.calls_in_flight:
            raise OrchestrationStateError(
                f"inside a critical section one entity cannot be called twice in parallel ({entity_id})"
            )

    def check_can_signal(self, entity_id: str) -> None:
        if entity_id in self.held or entity_id in self.requested:
            raise OrchestrationStateError(f"a critical section cannot signal an entity it has locked ({entity_id})")

    def granted(self) -> CriticalSection:
        self.held, self.requested = self.requested, ()
        return CriticalSection(self, self.held)

    def release(self, entity_ids: tuple[str, ...]) -> None:
        if self.held != entity_ids:
            return  # Released already (a second exit, or the orchestration released by hand).
        self.held = ()
        self.calls_in_flight.clear()
        self._replay.release_locks(entity_ids)


def canonical_lock_order(entity_ids: Iterable[str | EntityId]) -> tuple[str, ...]:
    """The order every lock request visits its entities in: sorted, without repeats."""
    parsed = {str(EntityId.parse(entity_id)) for entity_id in entity_ids}
    if not parsed:
        raise ValueError("lock_entities needs at least one entity")
    return tuple(sorted(parsed))


def held_locks(history: Iterable[HistoryEvent]) -> tuple[str, ...]:
    """The entities an orchestration has asked to lock and not released, from its history: what
    must be released when it ends for any reason."""
    held: tuple[str, ...] = ()
    for event in history:
        if event.event_type == EventType.ENTITY_LOCK_REQUESTED:
            held = tuple(event.details.get("entity_ids", ()))
        elif event.event_type == EventType.ENTITY_UNLOCK_SENT:
            held = ()
    return held
