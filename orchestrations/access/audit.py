"""Who is acting, and the audit log entry every change writes."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from orchestrations.access import roles
from orchestrations.access.models import AuditLogEntry


@dataclass(frozen=True)
class Actor:
    """A person or client making a change: a console user, an API key, or the CLI's OS user."""

    name: str
    source: str
    user_id: int | None = None
    #: What the actor's role allows, for the rules the services enforce themselves (replacing
    #: a finished instance needs the purge permission, say). None allows everything: the CLI
    #: runs with the database's own rights.
    permissions: frozenset[str] | None = None

    @classmethod
    def for_user(cls, user, source: str = AuditLogEntry.Source.CONSOLE) -> Actor:
        allowed = frozenset(codename for codename in roles.ALL_PERMISSIONS if roles.can(user, codename))
        return cls(user.get_username(), source, user.pk, allowed)

    @classmethod
    def for_api_key(cls, api_key) -> Actor:
        # Names need not be unique; the prefix tells two keys of one name apart.
        allowed = frozenset(codename for codename in roles.ALL_PERMISSIONS if roles.role_can(api_key.role, codename))
        return cls(f"apikey:{api_key.name} ({api_key.prefix})", AuditLogEntry.Source.API, permissions=allowed)

    def may(self, codename: str) -> bool:
        return self.permissions is None or codename in self.permissions

    @classmethod
    def for_cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(f"cli:{user}", AuditLogEntry.Source.CLI)


def record(
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: str = "",
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write an audit entry for a change made by ``actor`` (nothing for the engine's own moves)."""
    if actor is None:
        return
    AuditLogEntry.objects.create(
        actor=actor.name,
        user_id=actor.user_id,
        source=actor.source,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason or "",
        details=details or {},
    )
