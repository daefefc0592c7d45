"""The functions console on activity runs made by orchestrations: the list, an activity's page, one run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from functions.models import Invocation
from functions.services import sync_registry
from orchestrations import services
from orchestrations.worker.loop import drain_all
from tests.consoleapp.conftest import completed_instance, failed_instance

pytestmark = pytest.mark.django_db


def test_apps_list_their_functions_by_kind(viewer):
    sync_registry()
    completed_instance("done")

    page = viewer.get(reverse("functions")).content.decode()

    assert "<h2>tests</h2>" in page
    assert reverse("function", args=["echo"]) in page
    assert '<span class="tag orchestrator">orchestrator</span>' in page


def test_an_activity_page_filters_its_runs_by_status(viewer):
    completed_instance("done")
    failed_instance("broken")
    failed = Invocation.objects.get(instance_id="broken")

    page = viewer.get(reverse("function", args=["fail"]), {"status": "Failed"}).content.decode()
    assert reverse("invocation", args=[failed.pk]) in page
    page = viewer.get(reverse("function", args=["fail"]), {"status": "Completed"}).content.decode()
    assert reverse("invocation", args=[failed.pk]) not in page


def test_an_execution_shows_its_input_and_traceback(viewer):
    failed_instance("broken")
    execution = Invocation.objects.get(instance_id="broken")

    page = viewer.get(reverse("invocation", args=[execution.pk])).content.decode()

    assert "ValueError" in page
    assert "Traceback" in page
    assert '<span class="j-string">&quot;boom&quot;</span>' in page


def test_an_execution_shows_what_the_activity_logged_escaped(viewer):
    services.start("call_activity_by_name", {"activity": "log_and_echo", "input": "<b>bold</b>"}, instance_id="logged")
    drain_all()
    execution = Invocation.objects.get(instance_id="logged")

    page = viewer.get(reverse("invocation", args=[execution.pk])).content.decode()

    assert "WARNING tests.activities: working on &lt;b&gt;bold&lt;/b&gt;" in page
