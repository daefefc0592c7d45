"""The ASGI entry point: HTTP for the console and the API, websockets for live updates.

Websocket connections must come from an allowed host (a page of this console, not another
site riding on the user's cookies) and carry the user's session; the consumer refuses
anonymous users and users without access to the console.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consoleapp.settings")

# Django must be set up before the consumers (and the models they import) are.
http_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from consoleapp.routing import websocket_urlpatterns  # noqa: E402

# HTTP functions are served beside Django's handler, without the console's middleware
# (functions/http/asgi.py). Named by path, as consoleapp/urls.py includes their URLs: the doors
# import none of each other.
serve_functions_first = import_string("functions.http.asgi.FunctionsFirst")

application = ProtocolTypeRouter(
    {
        "http": serve_functions_first(http_application),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
