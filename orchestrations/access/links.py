"""Link keys: the key in the management links an HTTP starter hands back, good for one instance.

On Azure, the links of ``create_check_status_response`` carry the host's system key, which opens
every instance of the task hub. A caller who started an instance through an anonymous or
function-key starter holds no API key here, yet should be able to follow those links as they
are given. So such links carry a key that opens that one instance and nothing else:
``pdl_<signature>``, the HMAC under ``SECRET_KEY`` of the instance id and the moment it was
created (Django's signing, so ``SECRET_KEY_FALLBACKS`` keeps old links working across a key
rotation). A durable client mints one only for an instance it started itself, so a function
that hands out links for ids its callers name does not hand out keys to other instances.

With it, a caller may read the instance and steer it the ways its links offer an operator:
raise events, suspend, resume, terminate, rewind. Purging, restarting (which starts an instance)
and every other route need an API key. A link opens the instance it was handed out for, not a
later one started under the same id after a purge. Nothing is stored, so a link key cannot be
revoked on its own; rotating ``SECRET_KEY`` revokes all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core import signing

from orchestrations.access.audit import Actor
from orchestrations.access.models import AuditLogEntry

LINK_KEY_SCHEME = "pdl_"
_SALT = "perdura.instance-links"

#: What a link key lets its holder do to its instance.
LINK_PERMISSIONS = frozenset(
    {
        "view_console",
        "raise_event",
        "suspend_instance",
        "resume_instance",
        "terminate_instance",
        "rewind_instance",
    }
)


def link_key(instance_id: str, created_at: datetime) -> str:
    """The key that opens the management links of the instance ``instance_id`` created at ``created_at``."""
    return LINK_KEY_SCHEME + signing.Signer(salt=_SALT).signature(_signed(instance_id, created_at))


def is_link_key(plain_key: str) -> bool:
    return plain_key.startswith(LINK_KEY_SCHEME)


def opens(plain_key: str, instance_id: str | None, created_at: datetime | None) -> bool:
    """Whether ``plain_key`` is the link key of this instance (under this or a fallback secret)."""
    if instance_id is None or created_at is None or not is_link_key(plain_key):
        return False
    signature = plain_key[len(LINK_KEY_SCHEME) :]
    try:
        signing.Signer(salt=_SALT).unsign(f"{_signed(instance_id, created_at)}{signing.Signer().sep}{signature}")
    except signing.BadSignature:
        return False
    return True


def _signed(instance_id: str, created_at: datetime) -> str:
    return f"{instance_id}\n{created_at.astimezone(UTC).isoformat()}"


def actor_for(instance_id: str) -> Actor:
    """Who acts with a link key, in the audit log: the holder of that instance's links."""
    return Actor(f"link:{instance_id}"[:200], AuditLogEntry.Source.API, permissions=LINK_PERMISSIONS)
