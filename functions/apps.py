from __future__ import annotations

import atexit
import importlib
import importlib.util
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_migrate

from functions.outbound_http import AllowList


class FunctionsConfig(AppConfig):
    name = "functions"
    verbose_name = "Function apps"

    def ready(self) -> None:
        # Checked at start, so that a typo stops the server instead of failing every call_http.
        try:
            AllowList.parse(settings.PERDURA_HTTP_ALLOWED_HOSTS)
        except ValueError as error:
            raise ImproperlyConfigured(f"PERDURA_HTTP_ALLOWED_HOSTS: {error}") from None
        from functions.azure.host_files import read_host_json, read_local_settings
        from functions.azure.loader import register_azure_apps, use_client_binding

        # Importing a function app module registers its functions; the functions of an Azure
        # Functions app in it are read through the Azure SDK and registered (functions/azure/),
        # with the local.settings.json and host.json beside it.
        for module_name in settings.PERDURA_FUNCTION_APPS:
            directory = _directory_of(module_name)
            if directory is not None:
                read_local_settings(directory)
            try:
                module = importlib.import_module(module_name)
            except ImportError as error:
                raise ImproperlyConfigured(
                    f"PERDURA_FUNCTION_APPS names {module_name!r}, which cannot be imported: {error}"
                ) from error
            if register_azure_apps(module) and directory is not None:
                read_host_json(directory)
        # The functions layer cannot import the API's: the Azure client binding's maker is handed
        # down, imported when a function first asks for one.
        use_client_binding(lambda name: importlib.import_module("orchestrations.api.inprocess").client_binding(name))
        # Lazy: this module is imported while the apps load, before models may be.
        from functions.services import sync_registry
        from functions.services.durable_client import client_for
        from functions.worker import recorder
        from functions.worker.invoke import use_durable_client

        post_migrate.connect(lambda **kwargs: sync_registry(), sender=self, weak=False)
        # The worker layer cannot import the services above it: the client's factory is handed down.
        use_durable_client(client_for)
        # Invocations still buffered when the process ends are written then.
        atexit.register(recorder.flush)


def _directory_of(module_name: str) -> Path | None:
    """Where the module's file is, found without importing it (None if it is not found)."""
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    return Path(spec.origin).parent
