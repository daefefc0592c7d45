"""After HTTP functions and the HTTP API: any other path under the prefix is a JSON 404, not
the console's HTML page (without a prefix, HTTP functions share the root with the console,
which keeps its own 404)."""

from __future__ import annotations

from django.conf import settings
from django.urls import re_path

from functions.http.urls import caseless
from functions.http.views import not_found

_PREFIX = settings.PERDURA_HTTP_ROUTE_PREFIX

urlpatterns = [re_path(rf"^{caseless(_PREFIX)}(?:/[\s\S]*)?\Z", not_found)] if _PREFIX else []
