from __future__ import annotations

from django.apps import AppConfig


class OrchestrationsConfig(AppConfig):
    name = "orchestrations"
    verbose_name = "Orchestrations"

    def ready(self) -> None:
        from orchestrations.store import tracing

        # Traces, when the standard OTEL_* variables ask for them (and the otel extra is there).
        tracing.configure()
