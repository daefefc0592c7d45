"""The console app's models are access control's (orchestrations/access/models.py), kept under
this app's label so that their tables and permissions stay where they have always been.
Django finds an app's models through its models module: importing them here registers them."""

from __future__ import annotations

from orchestrations.access.models import ApiKey, AuditLogEntry, RolePermissions

__all__ = ["ApiKey", "AuditLogEntry", "RolePermissions"]
