"""Commands on entities, shared by the CLI, the HTTP API and the console."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from entities.models import Entity
from orchestrations.access import audit
from orchestrations.access.audit import Actor
from orchestrations.engine import EntityId, InvalidEntityIdError
from orchestrations.engine import events as ev
from orchestrations.engine.limits import MAX_EVENT_NAME_LENGTH, check_name
from orchestrations.engine.serialization import loads
from orchestrations.engine.status import TERMINAL_STATUSES
from orchestrations.models import Instance, Message
from orchestrations.services import paging
from orchestrations.services.common import (
    BadInputError,
    InvalidStateError,
    OrchestrationError,
    checked,
    serialize_payload,
)
from orchestrations.store.inbox import deliver, lock_entities


class EntityNotFoundError(OrchestrationError, LookupError):
    pass


def parse_entity_id(name: str, key: str) -> EntityId:
    try:
        return EntityId(name, key)
    except InvalidEntityIdError as error:
        raise BadInputError(str(error)) from None


@dataclass(frozen=True)
class Signal:
    """One operation to send to an entity, for ``signal_many``."""

    entity_id: EntityId
    operation: str
    input: Any = None
    scheduled_time: datetime | None = None


def signal(
    entity_id: EntityId,
    operation: str,
    input: Any = None,
    *,
    scheduled_time: datetime | None = None,
    actor: Actor | None = None,
) -> None:
    """Send an operation to an entity (creating it if it has never been seen)."""
    signal_many([Signal(entity_id, operation, input, scheduled_time)], actor=actor)


def signal_many(signals: list[Signal], *, actor: Actor | None = None) -> None:
    """Send many operations in one transaction, each entity receiving its own in list order.
    All or nothing: one bad signal (an empty operation name, input that is not JSON) and
    none is sent."""
    now = timezone.now()
    messages = []
    for item in signals:
        if not isinstance(item.operation, str) or not item.operation.strip():
            raise BadInputError("an operation name must be a non-empty string")
        checked(check_name, item.operation, "an operation name", MAX_EVENT_NAME_LENGTH)
        payload = serialize_payload(item.input, "the operation input")
        target = str(item.entity_id)
        event = ev.entity_operation_signaled(now, -1, target, item.operation, payload, item.scheduled_time)
        messages.append(Message.for_event(target, event, visible_at=max(item.scheduled_time or now, now)))
    with transaction.atomic():
        deliver(messages)
        for item in signals:
            audit.record(actor, "signal_entity", "entity", str(item.entity_id), details={"operation": item.operation})


@dataclass(frozen=True)
class EntityState:
    entity_id: EntityId
    exists: bool
    state: Any
    last_operation_at: datetime | None
    lock_owner: str | None


def get(entity_id: EntityId) -> EntityState:
    """The entity's state; raises EntityNotFoundError if it has none."""
    entity = Entity.objects.filter(pk=str(entity_id)).first()
    if entity is None or not entity.exists:
        raise EntityNotFoundError(f"entity {entity_id} does not exist")
    return EntityState(entity_id, True, loads(entity.state), entity.last_operation_at, entity.lock_owner)


@dataclass(frozen=True)
class EntityPage:
    entities: list[Entity]
    continuation_token: str | None


def query(
    *,
    name: str | None = None,
    last_operation_from: datetime | None = None,
    last_operation_to: datetime | None = None,
    include_deleted: bool = False,
    page_size: int = 100,
    continuation_token: str | None = None,
) -> EntityPage:
    """Entities by name and last-operation time, ordered by id, a page at a time (keyset paging)."""
    if page_size < 1:
        raise BadInputError("the page size must be at least 1")
    queryset = Entity.objects.all()
    if name:
        queryset = queryset.filter(name=name.lower())
    if last_operation_from:
        queryset = queryset.filter(last_operation_at__gte=last_operation_from)
    if last_operation_to:
        queryset = queryset.filter(last_operation_at__lte=last_operation_to)
    if not include_deleted:
        queryset = queryset.filter(state__isnull=False)
    if continuation_token:
        queryset = queryset.filter(entity_id__gt=_decode_token(continuation_token))
    rows = list(queryset.order_by("entity_id")[: page_size + 1])
    token = None
    if len(rows) > page_size:
        token = paging.encode([rows[page_size - 1].entity_id])
    return EntityPage(rows[:page_size], token)


def _decode_token(token: str) -> str:
    try:
        [entity_id] = paging.decode(token, [str])
    except paging.BadTokenError as error:
        raise BadInputError(str(error)) from None
    return entity_id


def delete(entity_id: EntityId, *, actor: Actor | None = None) -> None:
    """Delete an entity's state and pending messages; refused while an orchestration holds its lock."""
    with transaction.atomic():
        if not lock_entities([str(entity_id)]):
            raise EntityNotFoundError(f"entity {entity_id} does not exist")
        entity = Entity.objects.get(pk=str(entity_id))
        if entity.lock_owner:
            raise InvalidStateError(f"entity {entity_id} is locked by orchestration {entity.lock_owner!r}")
        Message.objects.filter(instance_id=str(entity_id)).delete()
        entity.delete()
        audit.record(actor, "delete_entity", "entity", str(entity_id))


@dataclass(frozen=True)
class CleanResult:
    empty_entities_removed: int
    orphaned_locks_released: int


def clean_storage(
    *, remove_empty: bool = True, release_orphaned_locks: bool = True, actor: Actor | None = None
) -> CleanResult:
    """Remove entities with no state and no pending messages, and release locks held by
    orchestrations that have ended (or no longer exist)."""
    released = 0
    if release_orphaned_locks:
        with transaction.atomic():
            for entity in Entity.objects.select_for_update().filter(lock_owner__isnull=False).order_by("pk"):
                owner = Instance.objects.filter(pk=entity.lock_owner).values_list("runtime_status", flat=True).first()
                if owner is None or owner in TERMINAL_STATUSES:
                    entity.lock_owner = None
                    entity.locked_at = None
                    entity.next_message_at = _earliest_message(entity.pk)
                    entity.save(update_fields=["lock_owner", "locked_at", "next_message_at"])
                    released += 1
    removed = 0
    if remove_empty:
        with transaction.atomic():
            pending = Message.objects.filter(instance_id__startswith="@").values("instance_id")
            empty = Entity.objects.filter(state__isnull=True, lock_owner__isnull=True).exclude(
                Q(pk__in=pending) | Q(lease_owner__isnull=False)
            )
            removed, _ = empty.delete()
    result = CleanResult(removed, released)
    audit.record(actor, "clean_entity_storage", "entity", "", details=dataclasses.asdict(result))
    return result


def _earliest_message(entity_id: str) -> datetime | None:
    return (
        Message.objects.filter(instance_id=entity_id)
        .order_by("visible_at")
        .values_list("visible_at", flat=True)
        .first()
    )
