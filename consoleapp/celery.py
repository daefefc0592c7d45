"""The Celery application. Celery runs Perdura's worker processes and carries coalesced
wake-ups; the work itself is claimed from the database (see orchestrations/worker.py)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consoleapp.settings")

app = Celery("perdura")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["orchestrations.worker"], related_name="celery_tasks")
# Used only by a worker started with --autoscale (manage.py worker --activity-autoscale): it
# sizes the pool by the work waiting in the database, not by the coalesced wake-ups.
app.conf.worker_autoscaler = "orchestrations.worker.autoscale:BacklogAutoscaler"
