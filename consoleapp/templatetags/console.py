"""Template tags and filters shared by every console page.

Everything that shows user data (inputs, outputs, custom status, names, comments) returns
text for the template to escape, or HTML built only from escaped pieces: nothing here marks
user data safe as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from consoleapp import roles

register = template.Library()

#: Above this size a payload is shown as it is stored, without re-indenting or highlighting it.
PRETTY_LIMIT = 256 * 1024

STATUS_CLASSES = {
    "Pending": "pending",
    "Running": "running",
    "Completed": "completed",
    "ContinuedAsNew": "continued",
    "Failed": "failed",
    "Canceled": "terminated",
    "Terminated": "terminated",
    "Suspended": "suspended",
    # Approvals and activity executions share the palette.
    "pending": "pending",
    "approved": "completed",
    "rejected": "failed",
    "expired": "terminated",
    "canceled": "terminated",
    "Abandoned": "terminated",
}


@register.filter
def dom_id(value: Any) -> str:
    """A stable, HTML-safe id fragment for any string (instance ids may hold any character)."""
    return "x" + hashlib.blake2s(str(value).encode(), digest_size=8).hexdigest()


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(str(status), "pending")


@register.filter
def can(user, codename: str) -> bool:
    """``{% if user|can:"terminate_instance" %}``: the role check, read-only mode included."""
    return roles.can(user, codename)


def pretty_json_text(text: str | None) -> str:
    """JSON text indented for reading; text that is not JSON comes back unchanged."""
    if text is None or text == "":
        return ""
    if len(text) > PRETTY_LIMIT:
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return text


@register.filter
def pretty_value(value: Any) -> str:
    """A Python value (a JSONField, say) as indented JSON text."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)'
    r'|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)"
)


@register.filter
def json_highlight(text: str | None) -> SafeString:
    """Indented JSON with its tokens in coloured spans. Every piece of the text is escaped
    before it is wrapped, so the result holds no markup that came from the data."""
    pretty = pretty_json_text(text)
    if len(pretty) > PRETTY_LIMIT or not _looks_like_json(text):
        return escape(pretty)
    pieces: list[str] = []
    position = 0
    for match in _JSON_TOKEN.finditer(pretty):
        pieces.append(escape(pretty[position : match.start()]))
        pieces.append(f'<span class="j-{match.lastgroup}">{escape(match.group(0))}</span>')
        position = match.end()
    pieces.append(escape(pretty[position:]))
    return mark_safe("".join(pieces))  # Built from escaped pieces only.


def _looks_like_json(text: str | None) -> bool:
    if not text:
        return False
    try:
        json.loads(text)
    except (ValueError, TypeError):
        return False
    return True


@register.filter
def preview(text: str | None, length: int = 120) -> str:
    """One line of a payload for a table cell."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


@register.filter
def duration(value: timedelta | None) -> str:
    """A duration as people say it: 420 ms, 3.2 s, 4 min 10 s, 2 h 5 min, 3 d 4 h."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 0:
        seconds = 0
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago (or in how long) a moment is, in its largest unit: 12 s ago, in 3 min."""
    if value is None:
        return "—"
    seconds = (timezone.now() - value).total_seconds()
    if abs(seconds) < 1:
        return "just now"
    if abs(seconds) < 60:
        largest = f"{int(abs(seconds))} s"
    else:
        largest = " ".join(duration(timedelta(seconds=abs(seconds))).split(" ")[:2])
    return f"{largest} ago" if seconds > 0 else f"in {largest}"


@register.filter
def since_start(value: datetime | None, start: datetime | None) -> str:
    """The offset of a history event from the instance's start: +1.234 s."""
    if value is None or start is None:
        return ""
    return f"+{(value - start).total_seconds():.3f} s"


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def oob(context) -> str:
    """``hx-swap-oob="true"`` on a partial's root when it is pushed over the websocket."""
    return mark_safe(' hx-swap-oob="true"') if context.get("oob") else ""


@register.simple_tag
def pending_approval_count(user) -> int:
    """Pending approvals this user may see, for the navigation badge."""
    from orchestrations.approvals import visible_to
    from orchestrations.models import Approval

    if not roles.can(user, "view_console"):
        return 0
    return visible_to(user).filter(status=Approval.Status.PENDING).count()


@register.simple_tag
def read_only() -> bool:
    return roles.is_read_only()


@register.filter
def short_type(error_type: str | None) -> str:
    """An exception's class name without its module: ``TaskFailedError``."""
    return (error_type or "").rsplit(".", 1)[-1]
