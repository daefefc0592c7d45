"""Websocket routes of the console (the HTTP routes are in consoleapp/urls.py)."""

from __future__ import annotations

from django.urls import path

from consoleapp.consumers import ConsoleConsumer

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
