from __future__ import annotations

import importlib

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class FunctionsConfig(AppConfig):
    name = "functions"
    verbose_name = "Function apps"

    def ready(self) -> None:
        # Importing a function app module registers its functions.
        for module_name in settings.PERDURA_FUNCTION_APPS:
            try:
                importlib.import_module(module_name)
            except ImportError as error:
                raise ImproperlyConfigured(
                    f"PERDURA_FUNCTION_APPS names {module_name!r}, which cannot be imported: {error}"
                ) from error
        from django.db.models.signals import post_migrate

        from .services import sync_registry

        post_migrate.connect(lambda **kwargs: sync_registry(), sender=self, weak=False)
