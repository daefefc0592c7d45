"""Reading settings from the environment, with a clear error for a bad value; and keeping the
files of the embedded default (var/: the secret key, the SQLite database with its sessions and
password hashes) readable only by the user Perdura runs as."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import sqlite3
import stat
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")


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


def env_networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of addresses or networks (``10.0.0.0/8``, ``::1``)."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks (10.0.0.0/8); got {item!r}"
            ) from None
    return tuple(networks)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(d|h|m|s)?$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def env_retention(name: str, default: str, statuses: tuple[str, ...]) -> dict[str, float]:
    """Status -> seconds, from ``Completed=30d,Failed=90d`` (units d, h, m, s; days without
    one). ``off`` or an empty value: nothing."""
    raw = os.environ.get(name, default).strip()
    if raw.lower() in ("", "off", "none"):
        return {}
    rules = {}
    for item in raw.split(","):
        status, _, age = item.partition("=")
        status, age = status.strip(), age.strip().lower()
        matched = _DURATION.match(age)
        if status not in statuses or not matched or float(matched.group(1)) <= 0:
            raise ImproperlyConfigured(
                f"{name} must read like Completed=30d,Failed=90d (statuses: {', '.join(statuses)}; "
                f"ages in d, h, m or s, above 0); got {item.strip()!r}"
            )
        rules[status] = float(matched.group(1)) * _UNIT_SECONDS[matched.group(2) or "d"]
    return rules


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def env_proxy_ssl_header(name: str, default: str) -> tuple[str, str] | None:
    """Django's SECURE_PROXY_SSL_HEADER from the name of the header in which a proxy says that
    the client used HTTPS (by the value ``https``, as X-Forwarded-Proto does); None when empty."""
    raw = os.environ.get(name, default).strip()
    if not raw:
        return None
    if not _HEADER_NAME.fullmatch(raw):
        raise ImproperlyConfigured(f"{name} must be the name of a header, such as X-Forwarded-Proto; got {raw!r}")
    return f"HTTP_{raw.upper().replace('-', '_')}", "https"


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


def replace_private_file(path: Path, content: str) -> None:
    """Put ``content`` in ``path``, readable only by its owner, in place of any file of that name.

    The content goes into a private temporary file beside it first, which is then renamed over
    ``path``: the name never shows a file with wider permissions, or half the content."""
    os.replace(_private_temporary_file(path, content), path)


def _private_temporary_file(beside: Path, content: str) -> Path:
    """A new file in ``beside``'s directory holding ``content``, readable only by its owner from
    the moment it exists (mkstemp opens it with O_CREAT | O_EXCL and mode 0600), and on disk."""
    descriptor, name = tempfile.mkstemp(dir=beside.parent, prefix=f".{beside.name}.")
    with os.fdopen(descriptor, "w") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    return Path(name)


def make_private_directory(path: Path) -> None:
    """Create the directory ``path`` for its owner alone (0700), or take the group's and
    others' access away from an existing one: older installs made var/ readable by everyone."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(path)


def make_private(path: Path) -> None:
    """Take the group's and others' permissions away from an existing file or directory
    (0644 becomes 0600, 0755 becomes 0700); a missing one is left missing. Only what belongs to
    the user Perdura runs as is Perdura's to change: one that another user owns keeps the
    permissions its owner gave it."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(status.st_mode)
    if not mode & 0o077 or status.st_uid != os.geteuid():
        return
    try:
        path.chmod(mode & 0o700)
    except OSError as error:
        raise ImproperlyConfigured(
            f"{path} can be read by other users and Perdura could not make it private ({error.strerror}); "
            "make it private (chmod go-rwx), or set PERDURA_VAR_DIR to a directory of Perdura's own"
        ) from None


class PrivateSQLiteConnection(sqlite3.Connection):
    """A SQLite connection that creates a missing database file readable only by its owner.

    SQLite would create it with the umask's mode (0644 as a rule), and it gives the -wal, -shm
    and -journal files beside it the database file's mode. Creating the file first, exclusively
    and with mode 0600, leaves no moment when the sessions and password hashes in it, or in those
    files, can be read by other users. Django's test runner deletes and recreates its test
    database, which is why this happens on every connection rather than once at start."""

    def __init__(self, database: str | os.PathLike, *args, **kwargs) -> None:
        name = os.fspath(database)
        # Django opens databases with uri=True: a "file:" name is a URI, ":memory:" no file at all.
        if name and name != ":memory:" and not name.startswith("file:"):
            with contextlib.suppress(FileExistsError):
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        super().__init__(database, *args, **kwargs)
