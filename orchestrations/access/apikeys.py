"""API keys for the HTTP API: created with a role, shown once, stored as a SHA-256 hash.

A key reads ``pdk_<8 hex>_<secret>``. Its first twelve characters, the prefix, are stored in
clear and name the key in lists, the console and the CLI (``durable apikey revoke PREFIX``);
the whole key is hashed. The secret carries 256 random bits, so a fast hash is enough: nobody
can guess their way to a key, and the database alone never gives one away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orchestrations.access import audit
from orchestrations.access.audit import Actor
from orchestrations.access.models import ApiKey
from orchestrations.access.roles import ROLES
from orchestrations.engine.limits import LimitError, check_name

KEY_SCHEME = "pdk_"
PREFIX_LENGTH = len(KEY_SCHEME) + 8
MAX_NAME_LENGTH = ApiKey._meta.get_field("name").max_length

#: ``last_used_at`` is refreshed at most this often, so that busy clients do not turn every
#: read into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A key cannot be created or revoked as asked; the message says why."""


def create(name: str, role: str, *, actor: Actor | None = None) -> tuple[ApiKey, str]:
    """Create a key for ``role``; return it and its plain text, which is never available again."""
    name = (name or "").strip()
    if not name:
        raise ApiKeyError("an API key needs a name (who or what will use it)")
    try:
        check_name(name, "an API key name", MAX_NAME_LENGTH)
    except LimitError as error:
        raise ApiKeyError(str(error)) from None
    if role not in ROLES:
        raise ApiKeyError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    with transaction.atomic():
        prefix, plain_key = mint(KEY_SCHEME, lambda prefix: ApiKey.objects.filter(prefix=prefix).exists())
        api_key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            key_hash=hash_key(plain_key),
            role=role,
            created_by=actor.name if actor else "",
        )
        audit.record(actor, "create_api_key", "api_key", prefix, details={"name": name, "role": role})
    return api_key, plain_key


def authenticate(plain_key: str) -> ApiKey | None:
    """The active key whose plain text this is, or None; notes when it was last used."""
    if not isinstance(plain_key, str) or not plain_key.startswith(KEY_SCHEME) or len(plain_key) <= PREFIX_LENGTH:
        return None
    api_key = ApiKey.objects.filter(prefix=plain_key[:PREFIX_LENGTH], revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_key(plain_key)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def revoke(prefix: str, *, actor: Actor | None = None) -> ApiKey:
    """Revoke the key with this prefix; requests carrying it are refused from now on."""
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().filter(prefix=prefix).first()
        if api_key is None:
            raise ApiKeyError(f"no API key with prefix {prefix!r}")
        if api_key.revoked_at is not None:
            raise ApiKeyError(f"the API key {prefix} was already revoked on {api_key.revoked_at:%Y-%m-%d %H:%M} UTC")
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit.record(actor, "revoke_api_key", "api_key", prefix, details={"name": api_key.name})
    return api_key


def list_keys(*, include_revoked: bool = False) -> list[ApiKey]:
    """The keys, newest first (never their plain text, which is not stored)."""
    keys = ApiKey.objects.all()
    if not include_revoked:
        keys = keys.filter(revoked_at__isnull=True)
    return list(keys.order_by("-created_at", "-pk"))


def mint(scheme: str, is_taken: Callable[[str], bool]) -> tuple[str, str]:
    """A new key of ``scheme``: its public prefix (one ``is_taken`` says is free) and the
    plain key, shown once. API keys and function keys are both made so."""
    while True:
        prefix = f"{scheme}{secrets.token_hex(4)}"
        if not is_taken(prefix):
            return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_key(plain_key: str) -> str:
    """What is stored of a key: never the key itself."""
    return hashlib.sha256(plain_key.encode()).hexdigest()
