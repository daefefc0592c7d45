"""Small helpers shared by the entity tests that use the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from entities import services as entities
from entities.models import Entity
from orchestrations import services
from orchestrations.engine import EntityId
from orchestrations.models import Instance, Message
from orchestrations.worker.loop import drain_all


def state_of(entity_id: EntityId) -> Any:
    return entities.get(entity_id).state


def lock_owner(entity_id: EntityId) -> str | None:
    return Entity.objects.get(pk=str(entity_id)).lock_owner


def run_to_end(name: str, input: Any = None, **kwargs: Any) -> Instance:
    """Start an orchestration and run everything ready; return the instance as it then is."""
    instance_id = services.start(name, input, **kwargs)
    drain_all()
    return services.get(instance_id)


def output_of(instance: Instance) -> Any:
    return services.parse_json(instance.output, "output")


def make_entity_inbox_due(entity_id: EntityId) -> None:
    """Move every message waiting for the entity into the past, as if its time had come."""
    past = timezone.now() - timedelta(seconds=1)
    Message.objects.filter(instance_id=str(entity_id)).update(visible_at=past)
    Entity.objects.filter(pk=str(entity_id)).update(next_message_at=past)
