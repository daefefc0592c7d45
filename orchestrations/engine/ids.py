"""Instance ids: what callers may choose, and how the engine derives them deterministically."""

from __future__ import annotations

import uuid

from orchestrations.engine.limits import MAX_INSTANCE_ID_LENGTH

_FORBIDDEN_CHARACTERS = frozenset("/\\#?")

#: The namespace of ``new_uuid``; a constant, so replays derive the same ids.
_UUID_NAMESPACE = uuid.UUID("0f1b6f2e-6a52-4c1f-9d55-7b1d2f0b7a11")


class InvalidInstanceIdError(ValueError):
    pass


def validate_instance_id(instance_id: object) -> str:
    """Return ``instance_id`` if callers may use it; raise ``InvalidInstanceIdError`` saying why not."""
    if not isinstance(instance_id, str) or not instance_id:
        raise InvalidInstanceIdError("an instance id must be a non-empty string")
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise InvalidInstanceIdError(
            f"an instance id may have at most {MAX_INSTANCE_ID_LENGTH} characters, this one has {len(instance_id)}"
        )
    if instance_id.startswith("@"):
        raise InvalidInstanceIdError("an instance id may not start with '@' (reserved for entities)")
    for character in instance_id:
        if character in _FORBIDDEN_CHARACTERS:
            raise InvalidInstanceIdError(f"an instance id may not contain {character!r}")
        if ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F:
            raise InvalidInstanceIdError(f"an instance id may not contain control characters ({ord(character):#04x})")
    return instance_id


def new_instance_id() -> str:
    return uuid.uuid4().hex


def deterministic_uuid(instance_id: str, timestamp_iso: str, counter: int) -> uuid.UUID:
    return uuid.uuid5(_UUID_NAMESPACE, f"{instance_id}_{timestamp_iso}_{counter}")
