"""The ASGI entry point: HTTP for the console and the API, websockets for live updates.

Websocket connections must come from an allowed host (a page of this console, not another
site riding on the user's cookies) and carry the user's session; the consumer refuses
anonymous users and users without access to the console.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consoleapp.settings")

# Django must be set up before the consumers (and the models they import) are.
http_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from consoleapp.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
