"""Roles: Django groups with per-action permissions.

viewer reads; operator starts and acts on instances and signals entities; approver decides
the approvals assigned to their groups; admin may do everything, including purges, bulk
actions, users and API keys. With PERDURA_READ_ONLY set, nobody may change anything.
"""

from __future__ import annotations

from django.conf import settings

VIEWER, OPERATOR, APPROVER, ADMIN = "viewer", "operator", "approver", "admin"
ROLES = (VIEWER, OPERATOR, APPROVER, ADMIN)

READ = {"view_console"}
OPERATE = {
    "start_instance",
    "raise_event",
    "suspend_instance",
    "resume_instance",
    "terminate_instance",
    "rewind_instance",
    "restart_instance",
    "signal_entity",
}
APPROVE = {"decide_approval"}
ADMINISTER = {"purge_instance", "bulk_action", "delete_entity", "manage_users", "manage_api_keys"}
ALL_PERMISSIONS = READ | OPERATE | APPROVE | ADMINISTER

ROLE_PERMISSIONS: dict[str, set[str]] = {
    VIEWER: READ,
    OPERATOR: READ | OPERATE,
    APPROVER: READ | APPROVE,
    ADMIN: READ | OPERATE | APPROVE | ADMINISTER,
}


def permission_name(codename: str) -> str:
    return f"consoleapp.{codename}"


def is_read_only() -> bool:
    return settings.PERDURA_READ_ONLY


def can(user, codename: str) -> bool:
    """Whether ``user`` may do ``codename`` now (the read-only setting forbids every change)."""
    if codename not in READ and is_read_only():
        return False
    return bool(user and user.is_active and user.has_perm(permission_name(codename)))


def role_can(role: str, codename: str) -> bool:
    """The same question for an API key, which carries a role instead of a user."""
    if codename not in READ and is_read_only():
        return False
    return codename in ROLE_PERMISSIONS.get(role, set())


def sync_groups() -> None:
    """Create the role groups and give each its permissions (idempotent; run after migrate)."""
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(content_type__app_label="consoleapp", codename__in=codenames)
        group.permissions.set(permissions)
