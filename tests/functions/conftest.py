"""A registry of its own for each test that defines function apps, so they never leak into
the registry the rest of the suite (and the workers) use."""

from __future__ import annotations

import importlib

import pytest
from django.test import Client

from functions.registry import Registry

# ``functions.registry`` as an attribute is the registry object the package re-exports, not
# the module; the module is where FunctionApp looks the registry up.
registry_module = importlib.import_module("functions.registry")
services_module = importlib.import_module("functions.services")


@pytest.fixture
def fresh_registry(monkeypatch) -> Registry:
    registry = Registry()
    monkeypatch.setattr(registry_module, "registry", registry)
    monkeypatch.setattr(services_module, "registry", registry)
    return registry


@pytest.fixture(params=["django-handler", "served-by-asgi"])
def function_client(request) -> Client:
    """A test client for HTTP functions, once through Django's handler (the view and its
    middleware) and once through the ASGI application a server calls, which serves them
    beside Django's handler (functions/http/asgi.py)."""
    if request.param == "django-handler":
        return Client()
    from consoleapp.asgi import application
    from tests.functions.asgi_client import ServedClient

    return ServedClient(application)
