"""``/metrics``, Prometheus's scrape target, at the site's root where Prometheus looks first."""

from __future__ import annotations

from django.urls import path

from orchestrations.api.metrics_view import metrics

urlpatterns = [path("metrics", metrics, name="metrics")]
