"""A registry of its own for each test that defines function apps, so they never leak into
the registry the rest of the suite (and the workers) use."""

from __future__ import annotations

import importlib

import pytest

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
