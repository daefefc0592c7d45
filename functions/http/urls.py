"""The URL pattern of HTTP functions: every path under PERDURA_HTTP_ROUTE_PREFIX that some
function's route matches. consoleapp/urls.py puts it before the HTTP API's routes, so that a
user's route takes precedence over the built-in ``/api/orchestrators/...`` starter."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.urls import URLPattern
from django.urls.resolvers import RegexPattern

from functions.http.views import matching_functions, serve

#: The name of the pattern below; functions/http/asgi.py serves the requests it resolves.
URL_NAME = "http-function"


class FunctionRoutePattern(RegexPattern):
    """Matches a path under the prefix only when an HTTP function's route matches what follows
    it; any other path is left to the patterns after this one."""

    def match(self, path: str) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
        matched = super().match(path)
        if matched is None or not matching_functions(matched[2].get("path", "")):
            return None
        return matched


def caseless(text: str) -> str:
    """A regex for ``text`` in any letter case. Not the (?i) flag: Django cannot reverse
    URLs (for any page) once a pattern holds one."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.lower() != c.upper() else re.escape(c) for c in text)


def prefix_regex(prefix: str) -> str:
    """The prefix matches without case, as routes do; ``path`` is what follows it."""
    if not prefix:
        return r"^(?P<path>[\s\S]*)\Z"
    return rf"^{caseless(prefix)}(?:/(?P<path>[\s\S]*))?\Z"


urlpatterns = [
    URLPattern(
        FunctionRoutePattern(prefix_regex(settings.PERDURA_HTTP_ROUTE_PREFIX), name=URL_NAME, is_endpoint=True),
        serve,
        name=URL_NAME,
    ),
]
