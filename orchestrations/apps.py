from __future__ import annotations

from django.apps import AppConfig


class OrchestrationsConfig(AppConfig):
    name = "orchestrations"
    verbose_name = "Orchestrations"
