"""How long each id, name and label may be, and what characters it may hold: one table. The
storage models take their column widths from it, and every door (services, the context
orchestrator code calls) checks a value against it before anything is written, so that no
value can reach a checkpoint that the database would refuse (a checkpoint refused for its
data is retried, and a value that can never be stored would be retried forever).
"""

from __future__ import annotations

#: Instance ids, and every column that holds one (parents, lock owners, inbox addresses).
MAX_INSTANCE_ID_LENGTH = 256
#: The names of orchestrators, activities and entities, and of approval steps.
MAX_NAME_LENGTH = 200
#: Event names and entity operation names (history's ``name`` column holds these too).
MAX_EVENT_NAME_LENGTH = 300
#: An orchestration's version label.
MAX_VERSION_LENGTH = 100
#: An entity's address ``@name@key`` goes where instance ids go (the inbox, lock owners).
MAX_ENTITY_ID_LENGTH = MAX_INSTANCE_ID_LENGTH
#: An approval's title, as the inbox shows it.
MAX_TITLE_LENGTH = 500
#: Why someone acted (terminate, suspend, rewind...), kept in history and the audit log; and
#: a person's comment on an approval.
MAX_REASON_LENGTH = 4000


class LimitError(ValueError):
    """A value longer than its limit, of the wrong type, or holding characters it may not."""


def check_text(value: object, what: str, max_length: int, *, controls: bool = False) -> str:
    """``value`` if it is a string of at most ``max_length`` characters with no NUL (which
    PostgreSQL cannot store) and, unless ``controls``, no control characters at all; else
    LimitError naming ``what``."""
    if not isinstance(value, str):
        raise LimitError(f"{what} must be a string, not {type(value).__name__}")
    if len(value) > max_length:
        raise LimitError(f"{what} may have at most {max_length:,} characters; this one has {len(value):,}")
    for character in value:
        code = ord(character)
        if code == 0 or (not controls and (code < 0x20 or 0x7F <= code <= 0x9F)):
            raise LimitError(f"{what} may not contain control characters ({code:#04x})")
    return value


def check_name(value: object, what: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """A non-empty name within its limit and with no control characters."""
    if isinstance(value, str) and not value:
        raise LimitError(f"{what} must be a non-empty string")
    return check_text(value, what, max_length)


def check_reason(value: object, what: str = "the reason") -> str | None:
    """An optional free text (a reason, a comment): line breaks and tabs are fine, NUL is not."""
    if value is None:
        return None
    return check_text(value, what, MAX_REASON_LENGTH, controls=True)
