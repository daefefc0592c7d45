from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from consoleapp import live
from orchestrations.access.roles import sync_groups
from orchestrations.store import notices


class ConsoleConfig(AppConfig):
    name = "consoleapp"
    verbose_name = "Console"

    def ready(self) -> None:
        # Open pages hear of every change the core commits, in every process that commits any.
        notices.subscribe(live.publish)
        post_migrate.connect(lambda **kwargs: sync_groups(), sender=self, weak=False)
