"""Template tags and filters shared by every console page.

Everything that shows user data (inputs, outputs, custom status, names, comments) returns
text for the template to escape, or HTML built only from escaped pieces: nothing here marks
user data safe as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from orchestrations.access import roles
from orchestrations.models import Approval
from orchestrations.services.approvals import decidable_by

register = template.Library()

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


# JSON shown on pages. Indenting repeats two spaces per level on every line, so the text it
# makes grows with depth times lines: 21 KB of JSON nested 900 deep became 19.6 MB. What a
# page shows of one value is therefore bounded in size and in depth, and a value past either
# bound is shown as stored, cut, with a link to download it whole.

#: Stored text longer than this is not parsed to be indented: indenting never makes text
#: shorter, so it could only be shown cut, as stored. Normal payloads are far smaller.
PRETTY_INPUT_LIMIT = 256 * 1024
#: The most indented text made for one value, in characters. The encoder gives up as soon as
#: its output passes this, so no larger text is ever built. It is the size up to which values
#: were highlighted before these bounds: all of those still are, unless nested too deep.
PRETTY_OUTPUT_LIMIT = 256 * 1024
#: Values whose lists and objects nest deeper are shown as stored. Checked before indenting, so
#: that no line is indented by more than 64 spaces; real payloads nest a handful of levels.
PRETTY_DEPTH_LIMIT = 32
#: How much of a value's stored text a page shows when it does not indent it, in characters:
#: enough to recognise the value, a quarter of what indented text may take.
STORED_EXCERPT_LIMIT = 64 * 1024
#: What ``pretty_value`` gives a title attribute or a table cell, in characters: a tooltip shows
#: no more, and a page has a column of them.
TOOLTIP_LIMIT = 2 * 1024

_INDENTER = json.JSONEncoder(indent=2, ensure_ascii=False)
_TOO_DEEP = f"nested deeper than {PRETTY_DEPTH_LIMIT} levels"


@dataclass(frozen=True)
class ShownJson:
    """What a page shows of one JSON value: its indented text when that stays within the bounds
    above, else the start of its stored text, saying why and how much of how much."""

    text: str
    indented: bool
    #: Why a JSON value is shown as stored; empty when it is indented, or is not JSON at all.
    why_stored: str = ""
    #: When shown as stored: how many bytes of it (UTF-8, as downloaded) are shown, of how many.
    shown_bytes: int = 0
    total_bytes: int = 0

    @property
    def is_cut(self) -> bool:
        return self.shown_bytes < self.total_bytes

    @property
    def needs_note(self) -> bool:
        """Whether the page should say that the value is shown as stored, and offer it whole."""
        return bool(self.why_stored) or self.is_cut

    @property
    def html(self) -> SafeString:
        """The text as HTML: indented JSON with its tokens in coloured spans, other text escaped."""
        return _highlight(self.text) if self.indented else escape(self.text)


@register.filter
def show_json(text: str | None) -> ShownJson:
    """Stored JSON text as a page shows it: ``{% with shown=instance.input|show_json %}``."""
    if not text:
        return ShownJson("", indented=False)
    try:
        return ShownJson(_indent_text(text), indented=True)
    except _NotIndented as why:
        return _as_stored(text, str(why))


@register.filter
def show_value(value: Any) -> ShownJson:
    """A JSONField's value as a page shows it, by way of its JSON text, whose size bounds the work
    as it does for stored text: text over PRETTY_INPUT_LIMIT is not walked or indented."""
    return show_json(json.dumps(value, ensure_ascii=False))


def pretty_json_text(text: str | None) -> str:
    """JSON text indented for reading within the bounds above (for downloads); text that is not
    JSON, or that the bounds keep from being indented, comes back unchanged."""
    if not text:
        return ""
    try:
        return _indent_text(text)
    except _NotIndented:
        return text


@register.filter
def pretty_value(value: Any) -> str:
    """A Python value (a JSONField, say) as indented JSON text for a tooltip, cut to
    ``TOOLTIP_LIMIT`` characters."""
    if value is None:
        return ""
    text = show_value(value).text
    return text if len(text) <= TOOLTIP_LIMIT else text[: TOOLTIP_LIMIT - 1] + "…"


class _NotIndented(Exception):
    """Raised for a value shown as stored; its message says why, and is empty for text that is
    not JSON, which has nothing to indent and so nothing to explain."""


def _indent_text(text: str) -> str:
    """Stored text indented, or ``_NotIndented`` raised saying why not."""
    if len(text) > PRETTY_INPUT_LIMIT:
        raise _NotIndented(f"over {PRETTY_INPUT_LIMIT // 1024} KB")
    try:
        value = json.loads(text)
    except RecursionError:
        # The parser recurses once per level, so text nested this deep (100,000 brackets, say)
        # cannot be read at all.
        raise _NotIndented(_TOO_DEEP) from None
    except ValueError:
        raise _NotIndented("") from None
    return _indent(value)


def _indent(value: Any) -> str:
    """A parsed value as indented text, made chunk by chunk and given up as soon as it passes
    ``PRETTY_OUTPUT_LIMIT``."""
    if _nested_deeper_than(value, PRETTY_DEPTH_LIMIT):
        raise _NotIndented(_TOO_DEEP)
    pieces: list[str] = []
    size = 0
    for chunk in _INDENTER.iterencode(value):
        size += len(chunk)
        if size > PRETTY_OUTPUT_LIMIT:
            raise _NotIndented(f"over {PRETTY_OUTPUT_LIMIT // 1024} KB once indented")
        pieces.append(chunk)
    return "".join(pieces)


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels, found with a stack of our own:
    the encoder recurses once per level, which is what a deep value must not reach."""
    containers = [(value, 1)] if isinstance(value, dict | list) else []
    while containers:
        container, depth = containers.pop()
        if depth > limit:
            return True
        children = container.values() if isinstance(container, dict) else container
        containers.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _as_stored(text: str, why: str) -> ShownJson:
    excerpt = text[:STORED_EXCERPT_LIMIT]
    total_bytes = len(text.encode())
    shown_bytes = total_bytes if len(excerpt) == len(text) else len(excerpt.encode())
    return ShownJson(excerpt, indented=False, why_stored=why, shown_bytes=shown_bytes, total_bytes=total_bytes)


_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)'
    r'|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)"
)


def _highlight(pretty: str) -> SafeString:
    """Indented JSON with its tokens in coloured spans. Every piece of the text is escaped
    before it is wrapped, so the result holds no markup that came from the data."""
    pieces: list[str] = []
    position = 0
    for match in _JSON_TOKEN.finditer(pretty):
        pieces.append(escape(pretty[position : match.start()]))
        pieces.append(f'<span class="j-{match.lastgroup}">{escape(match.group(0))}</span>')
        position = match.end()
    pieces.append(escape(pretty[position:]))
    return mark_safe("".join(pieces))  # Built from escaped pieces only.


#: A preview reads no further into a payload than this many characters: it shows one line of
#: it in a table cell, and every row of a page may hold megabytes.
PREVIEW_SCAN_LIMIT = 4 * 1024


@register.filter
def preview(text: str | None, length: int = 120) -> str:
    """One line of a payload for a table cell."""
    if text is None:
        return ""
    text = str(text)
    flat = " ".join(text[:PREVIEW_SCAN_LIMIT].split())
    if len(flat) <= length and len(text) <= PREVIEW_SCAN_LIMIT:
        return flat
    return flat[: length - 1] + "…"


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
    """Pending approvals waiting for this user's decision, for the navigation badge."""
    return decidable_by(user).filter(status=Approval.Status.PENDING).count()


@register.simple_tag
def user_roles(user) -> str:
    """Who the user is to the console: their roles, and apart from them the groups approvals
    are assigned to."""
    names = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
    held = [role for role in roles.ROLES if role in names] or (["superuser"] if user.is_superuser else ["none"])
    groups = sorted(names - set(roles.ROLES))
    return f"Roles: {', '.join(held)}" + (f"; approval groups: {', '.join(groups)}" if groups else "")


@register.simple_tag
def read_only() -> bool:
    return roles.is_read_only()


@register.filter
def short_type(error_type: str | None) -> str:
    """An exception's class name without its module: ``TaskFailedError``."""
    return (error_type or "").rsplit(".", 1)[-1]
