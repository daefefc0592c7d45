"""HTTP endpoints the samples talk to: the simulated export service of ``async_http_api``."""

from __future__ import annotations

from django.urls import path

from samples import async_http_api

app_name = "samples"

urlpatterns = [
    path("exports/", async_http_api.start_export, name="export-start"),
    path("exports/<slug:report>/<int:ready_at_ms>/", async_http_api.export_status, name="export-status"),
]
