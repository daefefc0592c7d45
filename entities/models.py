from __future__ import annotations

from django.db import models
from django.utils import timezone

from orchestrations.engine.limits import MAX_INSTANCE_ID_LENGTH, MAX_NAME_LENGTH
from orchestrations.models import Claimable


class Entity(Claimable):
    """One entity's state, lock and place in the work queue. Its inbox is the shared Message
    table, addressed by ``entity_id`` (``@name@key``)."""

    entity_id = models.CharField(max_length=300, primary_key=True)
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    key = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH)
    #: The state as JSON text; NULL when the entity has no state (it does not exist).
    state = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_operation_at = models.DateTimeField(null=True, blank=True)
    #: The orchestration holding this entity's lock, if any.
    lock_owner = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH, null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "key"]
        verbose_name_plural = "entities"
        indexes = [
            models.Index(fields=["name", "key"], name="entity_name_key"),
            models.Index(fields=["next_message_at"], name="entity_ready"),
            models.Index(fields=["-last_operation_at"], name="entity_last_operation"),
        ]

    def __str__(self) -> str:
        return self.entity_id

    @property
    def exists(self) -> bool:
        return self.state is not None
