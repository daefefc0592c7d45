"""Function keys: what HTTP functions of auth level ``function`` ask for. A key belongs to one
function, or to every function (a host key, ``function_name`` blank).

Keys are made and kept as API keys are (orchestrations/access/apikeys.py): ``pfk_<8 hex>_<secret>``,
shown once, its first twelve characters (the prefix) stored in clear to name it, the whole key
stored only as a SHA-256 hash. The secret carries 256 random bits, so a fast hash is enough.
"""

from __future__ import annotations

import hmac

from django.db import transaction
from django.utils import timezone

from functions.models import FunctionKey
from functions.registry import FunctionKind, registry
from orchestrations.access import audit
from orchestrations.access.apikeys import hash_key, mint
from orchestrations.access.audit import Actor
from orchestrations.engine.limits import LimitError, check_name

KEY_SCHEME = "pfk_"
PREFIX_LENGTH = len(KEY_SCHEME) + 8
MAX_NAME_LENGTH = FunctionKey._meta.get_field("name").max_length
_CREATED_BY_LENGTH = FunctionKey._meta.get_field("created_by").max_length


class FunctionKeyError(ValueError):
    """A key cannot be created or revoked as asked; the message says why."""


def create(name: str, function_name: str = "", *, actor: Actor | None = None) -> tuple[FunctionKey, str]:
    """Create a key for ``function_name`` (an HTTP function), or a host key when it is blank;
    return it and its plain text, which is never available again."""
    name = (name or "").strip()
    if not name:
        raise FunctionKeyError("a function key needs a name (who or what will use it)")
    try:
        check_name(name, "a function key name", MAX_NAME_LENGTH)
    except LimitError as error:
        raise FunctionKeyError(str(error)) from None
    function_name = (function_name or "").strip()
    if function_name and not registry.has(FunctionKind.HTTP, function_name):
        known = ", ".join(registry.names(FunctionKind.HTTP)) or "none"
        raise FunctionKeyError(f"no HTTP function named {function_name!r} is registered (known: {known})")
    with transaction.atomic():
        prefix, plain_key = mint(KEY_SCHEME, lambda prefix: FunctionKey.objects.filter(prefix=prefix).exists())
        key = FunctionKey.objects.create(
            name=name,
            function_name=function_name,
            prefix=prefix,
            key_hash=hash_key(plain_key),
            created_by=actor.name[:_CREATED_BY_LENGTH] if actor else "",
        )
        details = {"name": name, "function": function_name or "(host)"}
        audit.record(actor, "create_function_key", "function_key", prefix, details=details)
    return key, plain_key


def authenticate(plain_key: str, function_name: str) -> FunctionKey | None:
    """The active key of ``function_name``, or the active host key, whose plain text this is;
    None for any other text (another function's key included)."""
    if not isinstance(plain_key, str) or not plain_key.startswith(KEY_SCHEME) or len(plain_key) <= PREFIX_LENGTH:
        return None
    key = FunctionKey.objects.filter(prefix=plain_key[:PREFIX_LENGTH], revoked_at__isnull=True).first()
    if key is None or key.function_name not in ("", function_name):
        return None
    return key if hmac.compare_digest(key.key_hash, hash_key(plain_key)) else None


def revoke(prefix: str, *, actor: Actor | None = None) -> FunctionKey:
    """Revoke the key with this prefix; requests carrying it are refused from now on."""
    with transaction.atomic():
        key = FunctionKey.objects.select_for_update().filter(prefix=prefix).first()
        if key is None:
            raise FunctionKeyError(f"no function key with prefix {prefix!r}")
        if key.revoked_at is not None:
            raise FunctionKeyError(
                f"the function key {prefix} was already revoked on {key.revoked_at:%Y-%m-%d %H:%M} UTC"
            )
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        details = {"name": key.name, "function": key.function_name or "(host)"}
        audit.record(actor, "revoke_function_key", "function_key", prefix, details=details)
    return key


def list_keys(*, include_revoked: bool = False) -> list[FunctionKey]:
    """The keys, host keys first, then by function and name (never their plain text)."""
    keys = FunctionKey.objects.all()
    if not include_revoked:
        keys = keys.filter(revoked_at__isnull=True)
    return list(keys.order_by("function_name", "name", "pk"))
