"""The ASGI entry point: HTTP now, websockets once the live console routes them."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consoleapp.settings")

application = get_asgi_application()
