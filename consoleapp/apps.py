from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "consoleapp"
    verbose_name = "Console"

    def ready(self) -> None:
        from orchestrations.access.roles import sync_groups

        post_migrate.connect(lambda **kwargs: sync_groups(), sender=self, weak=False)
