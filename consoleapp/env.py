"""Reading settings from the environment, with a clear error for a bad value."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def env_secret(name: str, fallback_file: Path) -> str:
    """A secret from the environment or, for the embedded default, one generated once and
    kept in a file readable only by its owner. Processes making their first start at the same
    moment all get the key that reached the file first."""
    value = os.environ.get(name)
    if value:
        return value
    if not fallback_file.exists():
        fallback_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_private_file(fallback_file, secrets.token_urlsafe(50))
    value = fallback_file.read_text().strip()
    if not value:
        raise ImproperlyConfigured(f"{fallback_file} is empty; delete it to have a new key made, or set {name}")
    return value


def create_private_file(path: Path, content: str) -> bool:
    """Create ``path`` holding ``content``, readable only by its owner, unless it exists already;
    say whether it was created.

    The content goes into a private temporary file beside it first, which is then linked to
    ``path``: linking fails if the name exists, so of several processes trying at once exactly
    one wins, and the others read its file complete, never half written."""
    temporary = _private_temporary_file(path, content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def _private_temporary_file(beside: Path, content: str) -> Path:
    """A new file in ``beside``'s directory holding ``content``, readable only by its owner from
    the moment it exists (mkstemp opens it with O_CREAT | O_EXCL and mode 0600), and on disk."""
    descriptor, name = tempfile.mkstemp(dir=beside.parent, prefix=f".{beside.name}.")
    with os.fdopen(descriptor, "w") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    return Path(name)
