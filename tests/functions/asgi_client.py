"""Django's test client, sending its requests through an ASGI application as a server does
(Daphne calls consoleapp.asgi:application), rather than into Django's handler: what reaches
an HTTP function in production goes through functions/http/asgi.py, which Django's own test
client never calls."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.test.client import AsyncClient


class ServedClient(AsyncClient):
    """``get``, ``post`` ... as the sync test client has them, answered by ``application``."""

    def __init__(self, application: Any, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.handler = _Served(application)

    def get(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return async_to_sync(super().get)(*args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return async_to_sync(super().post)(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> HttpResponse:
        return async_to_sync(super().delete)(*args, **kwargs)


class _Served:
    """Stands where AsyncClient keeps its handler: takes the scope, calls the application with the
    body in one message, and makes an HttpResponse of what it sent."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any]) -> HttpResponse:
        body_file = scope.pop("_body_file", None)
        body = body_file.read() if body_file is not None else b""
        if not any(name == b"content-length" for name, _ in scope["headers"]):
            scope["headers"] = [*scope["headers"], (b"content-length", str(len(body)).encode())]
        sent: list[dict[str, Any]] = []
        received = False

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                # The client stays until it has the answer (Django's handler listens for a
                # disconnect while it serves, and would stop at one).
                await asyncio.Future()
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.application(scope, receive, send)
        start, *parts = sent
        response = HttpResponse(b"".join(part.get("body", b"") for part in parts), status=start["status"])
        del response["Content-Type"]  # Only what the application sent.
        for name, value in start["headers"]:
            response[name.decode("latin-1")] = value.decode("latin-1")
        response.asgi_request = None  # AsyncClient looks for it; there is no request object here.
        return response
