"""Roles: Django groups with per-action permissions, written once in ``ROLE_PERMISSIONS``
(the README's table of roles is checked against it by the tests).

viewer reads everything; operator also starts and acts on instances, signals entities, runs
functions by hand, puts queue messages and pauses, resumes and runs timer schedules; approver
also decides approvals assigned to one of their other groups or to none; admin may do
everything, including deciding any approval, purges (of instances and of queues), bulk
actions, users and API keys.
With PERDURA_READ_ONLY set, nobody may change anything, through any door.
"""

from __future__ import annotations

from django.conf import settings

VIEWER, OPERATOR, APPROVER, ADMIN = "viewer", "operator", "approver", "admin"
ROLES = (VIEWER, OPERATOR, APPROVER, ADMIN)

#: Every permission, with what it lets a role do, in the order the README's table lists them.
PERMISSIONS: dict[str, str] = {
    "view_console": "read orchestrations, entities, functions, approvals and the audit log",
    "start_instance": "start orchestrations",
    "raise_event": "raise events",
    "suspend_instance": "suspend instances",
    "resume_instance": "resume instances",
    "terminate_instance": "terminate instances",
    "rewind_instance": "rewind instances",
    "restart_instance": "restart instances (under a new id; under the same id needs purge)",
    "signal_entity": "signal entities",
    "invoke_function": "run timer, queue and activity functions by hand",
    "manage_timers": "pause, resume and run timer schedules now",
    "decide_approval": "decide approvals",
    "purge_instance": "purge instances, or replace a finished one by starting under its id",
    "bulk_action": "act on many instances at once",
    "delete_entity": "delete entities",
    "put_queue_message": "put messages on queues and requeue poison messages",
    "purge_queue": "purge queues",
    "manage_users": "manage users and their roles",
    "manage_api_keys": "create and revoke API keys",
}
ALL_PERMISSIONS = frozenset(PERMISSIONS)
READ = frozenset({"view_console"})

#: The role matrix: what each role may do.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    VIEWER: READ,
    OPERATOR: READ
    | {
        "start_instance",
        "raise_event",
        "suspend_instance",
        "resume_instance",
        "terminate_instance",
        "rewind_instance",
        "restart_instance",
        "signal_entity",
        "invoke_function",
        "put_queue_message",
        "manage_timers",
    },
    APPROVER: READ | {"decide_approval"},
    ADMIN: ALL_PERMISSIONS,
}

#: The permission each command on an instance needs.
COMMAND_PERMISSIONS: dict[str, str] = {
    "raise_event": "raise_event",
    "suspend": "suspend_instance",
    "resume": "resume_instance",
    "terminate": "terminate_instance",
    "rewind": "rewind_instance",
    "restart": "restart_instance",
    "purge": "purge_instance",
}

#: Which approvals a role that may decide approvals decides.
APPROVALS_DECIDED = {
    APPROVER: "those assigned to one of their other groups, or to none",
    ADMIN: "every one",
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
    return codename in ROLE_PERMISSIONS.get(role, frozenset())


def decides_every_approval(user) -> bool:
    """Admins (and superusers) decide any approval; approvers only their groups' and unassigned ones."""
    return can(user, "decide_approval") and (user.is_superuser or user.groups.filter(name=ADMIN).exists())


def assignment_groups(user) -> list[str]:
    """The user's groups that are not roles: the ones approvals are assigned to."""
    return sorted(name for name in user.groups.values_list("name", flat=True) if name not in ROLES)


def sync_groups() -> None:
    """Create the role groups and give each its permissions (idempotent; run after migrate)."""
    # Lazy: this module is imported while the apps load, before auth's models may be.
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(
            content_type__app_label="consoleapp", content_type__model="rolepermissions", codename__in=codenames
        )
        group.permissions.set(permissions)
