"""Access control's records: the audit log and API keys; and the holder of the permissions
roles are made of (roles.PERMISSIONS), which Django attaches to a model."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orchestrations.access.roles import PERMISSIONS


class RolePermissions(models.Model):
    """No table: what the role matrix's permissions hang on, as Django's permissions need a
    model. Roles are groups holding some of them (roles.ROLE_PERMISSIONS)."""

    class Meta:
        app_label = "consoleapp"
        managed = False
        default_permissions = ()
        permissions = list(PERMISSIONS.items())

    def __str__(self) -> str:
        return "role permissions"


class AuditLogEntry(models.Model):
    """One change made by a person or a client: who, what, to what, why, when, and through what."""

    class Source(models.TextChoices):
        CONSOLE = "console"
        API = "api"
        CLI = "cli"

    actor = models.CharField(max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=20, choices=Source.choices)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "consoleapp"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="audit_created"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target_type} {self.target_id}"


class ApiKey(models.Model):
    """A key for the HTTP API, bound to a role. Only a hash is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    role = models.CharField(max_length=20)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "consoleapp"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
