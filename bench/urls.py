"""The console's URLs and H1's plain Django view (served only under bench/settings.py).

The view answers what the HTTP function ``bench_http_hello`` answers, and its pattern sits
just before the HTTP functions' pattern, so that resolving either path passes the same
console patterns first. The view goes through Django's handler and the console's whole
middleware, as any Django view; the function is served beside that handler
(functions/http/asgi.py) with its route, key check, invocation and record: H1 compares what
a function costs with what the same answer costs as a plain view.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

import functions.http.urls
from consoleapp.urls import urlpatterns as console_urlpatterns

PLAIN_HELLO_PATH = "/bench/plain-hello"


@require_GET
def plain_hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"hello", content_type="text/plain; charset=utf-8")


def _http_functions_position() -> int:
    for position, pattern in enumerate(console_urlpatterns):
        if getattr(pattern, "urlconf_name", None) is functions.http.urls:
            return position
    raise LookupError("consoleapp.urls does not include functions.http.urls; H1's plain view has no place to go")


_position = _http_functions_position()
urlpatterns = [
    *console_urlpatterns[:_position],
    path(PLAIN_HELLO_PATH.lstrip("/"), plain_hello, name="bench-plain-hello"),
    *console_urlpatterns[_position:],
]
