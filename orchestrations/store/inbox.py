"""Delivering messages to inboxes, the one way work reaches an orchestration or an entity.

An address is an instance id, or an entity id (``@name@key``). Every transaction that writes
to more than one row of these tables locks them first in one global order, instance rows
before entity rows and each by id, so two transactions never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from entities.models import Entity
from orchestrations.engine import EntityId
from orchestrations.engine.entities import is_entity_address
from orchestrations.engine.status import TERMINAL_STATUSES
from orchestrations.models import Instance, Message
from orchestrations.store.bulk import Statement, in_keys, key_params, keys_count, run_statements
from orchestrations.store.wakeups import ENTITIES, ORCHESTRATIONS, notify_on_commit


@dataclass(frozen=True, slots=True)
class LockedRow:
    """What a writer needs of an instance row it has locked: its status and its execution."""

    runtime_status: str
    execution_id: str


def lock_instances(instance_ids: Iterable[str]) -> dict[str, LockedRow]:
    """Lock these instance rows (in id order) and return what each says now."""
    ids = sorted({instance_id for instance_id in instance_ids if not is_entity_address(instance_id)})
    if not ids:
        return {}
    sql = (
        f"SELECT instance_id, runtime_status, execution_id FROM {Instance._meta.db_table} "
        f"WHERE instance_id {in_keys(keys_count(ids))} ORDER BY instance_id"
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    [rows] = run_statements([Statement(sql, key_params(ids), returns_rows=True)])
    return {pk: LockedRow(status, execution_id) for pk, status, execution_id in rows}


def lock_entities(entity_ids: Iterable[str], *, create: bool = False) -> list[str]:
    """Lock these entity rows (in id order), first creating those that do not exist if asked."""
    ids = sorted({entity_id for entity_id in entity_ids if is_entity_address(entity_id)})
    if not ids:
        return []
    if create:
        rows = []
        for entity_id in ids:
            parsed = EntityId.parse(entity_id)
            rows.append(Entity(entity_id=entity_id, name=parsed.name, key=parsed.key))
        Entity.objects.bulk_create(rows, ignore_conflicts=True)
    return list(Entity.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def deliver(messages: Sequence[Message], *, wake: bool = True) -> int:
    """Add messages to their inboxes inside the caller's transaction. Messages for an instance
    that does not exist, has finished, or has moved on to another execution are dropped; an
    entity is created by its first message. ``wake=False`` is for a caller that runs the
    orchestrations' next episode itself. Returns how many were delivered."""
    if not messages:
        return 0
    instances = lock_instances(message.instance_id for message in messages)
    lock_entities((message.instance_id for message in messages), create=True)
    deliverable = [
        message
        for message in messages
        if is_entity_address(message.instance_id) or _is_deliverable(message, instances.get(message.instance_id))
    ]
    Message.objects.bulk_create(deliverable)
    earliest: dict[str, datetime] = {}
    for message in deliverable:
        current = earliest.get(message.instance_id)
        earliest[message.instance_id] = message.visible_at if current is None else min(current, message.visible_at)
    _bring_forward(Instance, {a: t for a, t in earliest.items() if not is_entity_address(a)})
    _bring_forward(Entity, {a: t for a, t in earliest.items() if is_entity_address(a)})
    now = timezone.now()
    due = {message.instance_id for message in deliverable if message.visible_at <= now}
    if wake and any(not is_entity_address(address) for address in due):
        notify_on_commit(ORCHESTRATIONS)
    if any(is_entity_address(address) for address in due):
        notify_on_commit(ENTITIES)
    return len(deliverable)


def _bring_forward(model: type[Instance] | type[Entity], earliest: dict[str, datetime]) -> None:
    """Set each row's ``next_message_at`` to the given time where that is earlier, in one
    statement for all rows (UPDATE ... FROM VALUES, on PostgreSQL and SQLite alike)."""
    if not earliest:
        return
    table, key = model._meta.db_table, model._meta.pk.column
    rows = sorted(earliest.items())
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s, %s::timestamptz)"] * len(rows))
        source, address, time = f"(VALUES {values}) AS v(address, at)", "v.address", "v.at"
    else:
        values = ", ".join(["(%s, %s)"] * len(rows))
        source, address, time = f"(VALUES {values}) AS v", "v.column1", "v.column2"
    sql = (
        f"UPDATE {table} SET next_message_at = {time} FROM {source} "
        f"WHERE {table}.{key} = {address} AND ({table}.next_message_at IS NULL OR {table}.next_message_at > {time})"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for address_, at in rows for value in (address_, adapt(at))])


def _is_deliverable(message: Message, target: LockedRow | None) -> bool:
    if target is None or target.runtime_status in TERMINAL_STATUSES:
        return False
    return not message.execution_id or message.execution_id == target.execution_id
