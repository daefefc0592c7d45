"""What every console page shares: the role check, the websocket address a page subscribes to,
and JSON downloads."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from consoleapp.templatetags.console import pretty_json_text
from orchestrations.access import roles


def require_permission(user, codename: str) -> None:
    """Raise PermissionDenied (403) unless ``user`` may do ``codename`` now."""
    if not roles.can(user, codename):
        raise PermissionDenied(f"your role does not allow {codename.replace('_', ' ')}")


def json_download(stored: str | None, filename: str) -> HttpResponse:
    """A stored JSON value as an attachment: indented when it is within the bounds the pages
    indent within, else exactly as stored, so that a download is always the whole value."""
    response = HttpResponse(pretty_json_text(stored) or "null", content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def live_url(page: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """The websocket address a page subscribes to: the consumer learns from it what the page
    shows (which list filter, which instance) and pushes the regions that change."""
    pairs = [("page", page), *((key, value) for key, value in params if value not in (None, ""))]
    return f"/ws/console/?{urlencode(pairs)}"
