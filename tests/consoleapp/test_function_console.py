"""The functions console: the list of every function, a function's page (counts, charts,
paged invocations), an invocation's page, and the "Run" form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consoleapp.pages.functions import bucket_chart
from functions.models import Invocation, QueuedMessage
from functions.services import invocations
from orchestrations.access.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def invocation(function_name: str, *, ago: timedelta, took_ms: float | None = 10, **fields) -> Invocation:
    started_at = timezone.now() - ago
    ended_at = started_at + timedelta(milliseconds=took_ms) if took_ms is not None else None
    fields.setdefault("status", Invocation.Status.COMPLETED if ended_at else Invocation.Status.RUNNING)
    return Invocation.objects.create(
        function_name=function_name,
        trigger=fields.pop("trigger", Invocation.Trigger.QUEUE),
        worker="test",
        started_at=started_at,
        ended_at=ended_at,
        **fields,
    )


# Reading.


def test_anonymous_users_are_sent_to_log_in():
    for url in (reverse("functions"), reverse("function", args=["console_forward"])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_users_without_a_role_may_not_read(nobody):
    assert nobody.get(reverse("functions")).status_code == 403
    assert nobody.get(reverse("function", args=["console_forward"])).status_code == 403


def test_the_list_shows_every_function_with_its_trigger_and_counts(viewer):
    invocation("console_forward", ago=timedelta(minutes=5))
    invocation("console_forward", ago=timedelta(minutes=6), status=Invocation.Status.FAILED)
    invocation("console_forward", ago=timedelta(hours=3))
    invocation("console_forward", ago=timedelta(days=2))

    page = viewer.get(reverse("functions")).content.decode()

    assert "<h2>tests-console</h2>" in page
    assert "GET /console-hello (auth: anonymous)" in page
    assert "schedule 0 0 0 1 1 *" in page
    assert "queue console-in" in page
    assert '<span class="tag orchestrator">orchestrator</span>' in page
    counts = invocations.recent_counts()["console_forward"]
    assert counts == invocations.RecentCounts(runs_hour=2, failures_hour=1, runs_day=3, failures_day=1)


def test_a_function_page_pages_its_invocations(viewer, monkeypatch):
    monkeypatch.setattr("consoleapp.pages.functions.PAGE_SIZE", 2)
    rows = [invocation("console_double", ago=timedelta(minutes=minute), trigger="activity") for minute in (1, 2, 3)]

    first = viewer.get(reverse("function", args=["console_double"]))
    page = first.content.decode()
    assert reverse("invocation", args=[rows[0].pk]) in page
    assert reverse("invocation", args=[rows[2].pk]) not in page
    older = first.context["next_url"]

    second = viewer.get(older).content.decode()
    assert reverse("invocation", args=[rows[2].pk]) in second
    assert reverse("invocation", args=[rows[0].pk]) not in second


def test_a_function_page_of_an_unknown_function_is_404(viewer):
    assert viewer.get(reverse("function", args=["no_such_function"])).status_code == 404


def test_a_function_page_escapes_what_invocations_hold(viewer):
    invocation(
        "console_broken",
        ago=timedelta(minutes=1),
        status=Invocation.Status.FAILED,
        error_type="RuntimeError",
        error_message="<script>alert(1)</script>",
    )

    page = viewer.get(reverse("function", args=["console_broken"])).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_invocation_page_shows_trigger_status_code_error_and_logs(viewer):
    row = invocation(
        "console_hello",
        ago=timedelta(minutes=1),
        trigger="http",
        status=Invocation.Status.FAILED,
        status_code=500,
        error_type="ValueError",
        error_message="bad",
        traceback="Traceback (most recent call last):\n  boom",
        logs="WARNING tests: <b>logged</b>",
        input='{"q": 1}',
    )

    page = viewer.get(reverse("invocation", args=[row.pk])).content.decode()

    assert "<dt>Trigger</dt><dd>http</dd>" in page
    assert "<dt>Status code</dt><dd>500</dd>" in page
    assert "Traceback (most recent call last)" in page
    assert "WARNING tests: &lt;b&gt;logged&lt;/b&gt;" in page
    assert row.invocation_id in page


def test_old_execution_addresses_redirect(viewer):
    row = invocation("console_double", ago=timedelta(minutes=1), trigger="activity")

    response = viewer.get(f"/functions/executions/{row.pk}/")

    assert response.status_code == 301
    assert response["Location"] == reverse("invocation", args=[row.pk])


# The charts' numbers.


def ran(function_name: str, started_at, took_ms: float | None, status: str = Invocation.Status.COMPLETED) -> None:
    ended_at = started_at + timedelta(milliseconds=took_ms) if took_ms is not None else None
    Invocation.objects.create(
        function_name=function_name, worker="t", started_at=started_at, ended_at=ended_at, status=status
    )


def test_percentiles_per_minute_are_exact_on_known_durations():
    now = timezone.now().replace(second=30, microsecond=0)
    previous = now - timedelta(minutes=1)
    # This minute: eleven runs of 1..10 ms and 100 ms, and one still running (counted, no
    # duration). The minute before: 100 ms and a failed 300 ms.
    for took in [*range(1, 11), 100]:
        ran("console_double", now - timedelta(seconds=20), took)
    ran("console_double", now - timedelta(seconds=5), None, Invocation.Status.RUNNING)
    ran("console_double", previous, 100)
    ran("console_double", previous, 300, Invocation.Status.FAILED)
    ran("console_forward", now, 5000)  # Another function's: not in these buckets.

    buckets = invocations.last_hour_by_minute("console_double", now)

    assert len(buckets) == 60
    current, before = buckets[-1], buckets[-2]
    assert (current.at, before.at) == (now.replace(second=0), previous.replace(second=0))
    assert (current.runs, current.failures) == (12, 0)
    assert (current.p50, current.p95) == (timedelta(milliseconds=6), timedelta(milliseconds=100))
    assert (before.runs, before.failures) == (2, 1)
    assert (before.p50, before.p95) == (timedelta(milliseconds=100), timedelta(milliseconds=300))
    assert all(bucket.runs == 0 and bucket.p50 is None for bucket in buckets[:-2])


def test_quarter_hour_buckets_cover_the_day_aligned_to_the_quarter():
    now = timezone.now().replace(hour=10, minute=7, second=0, microsecond=0)
    Invocation.objects.create(
        function_name="console_double",
        worker="t",
        started_at=now.replace(hour=9, minute=50),
        ended_at=now.replace(hour=9, minute=50) + timedelta(seconds=2),
    )
    Invocation.objects.create(
        function_name="console_double", worker="t", started_at=now - timedelta(days=1, minutes=20)
    )

    buckets = invocations.last_day_by_quarter_hour("console_double", now)

    assert len(buckets) == 96
    assert buckets[-1].at == now.replace(minute=0)
    assert buckets[-2].at == now.replace(hour=9, minute=45)
    assert (buckets[-2].runs, buckets[-2].p50, buckets[-2].p95) == (1, timedelta(seconds=2), timedelta(seconds=2))
    assert sum(bucket.runs for bucket in buckets) == 1


def test_the_chart_scales_bars_to_runs_and_lines_to_the_slowest_p95():
    at = timezone.now()
    buckets = [
        invocations.Bucket(at, 4, 1, timedelta(milliseconds=20), timedelta(milliseconds=40)),
        invocations.Bucket(at, 0, 0, None, None),
    ]

    chart = bucket_chart(buckets, label_every=1, label_format="%H:%M", unit="min")

    assert (chart["runs_scale"], chart["ms_scale"]) == (5, 50)
    plot = chart["plot"]
    assert chart["bars"][0]["ok_height"] == round(plot * 3 / 5, 1)
    assert chart["bars"][0]["failed_height"] == round(plot * 1 / 5, 1)
    assert chart["p95"] == f"180.0,{plot - plot * 40 / 50:.1f}"
    assert chart["p50"] == f"180.0,{plot - plot * 20 / 50:.1f}"


# Running by hand from the page.


def run_url(name: str) -> str:
    return reverse("run-function", args=[name])


def test_running_needs_post(operator):
    assert operator.get(run_url("console_double")).status_code == 405


def test_running_needs_a_login():
    response = Client().post(run_url("console_double"), {"input": "2"})
    assert response.status_code == 302
    assert not Invocation.objects.exists()


def test_running_needs_the_invoke_permission(viewer):
    assert viewer.post(run_url("console_double"), {"input": "2"}).status_code == 403
    assert not Invocation.objects.exists()


def test_an_operator_runs_an_activity_and_it_is_audited(operator):
    response = operator.post(run_url("console_double"), {"input": "21"})

    run = Invocation.objects.get(function_name="console_double")
    assert response.status_code == 302
    assert response["Location"] == reverse("invocation", args=[run.pk])
    assert (run.trigger, run.status, run.input, run.output) == ("manual", "Completed", "21", "42")
    entry = AuditLogEntry.objects.get(action="invoke_function")
    assert (entry.actor, entry.target_id, entry.details["invocation_id"]) == (
        "operator",
        "console_double",
        run.invocation_id,
    )


def test_a_queue_function_run_by_hand_puts_its_output_messages(admin):
    admin.post(run_url("console_forward"), {"input": '"<hello>"'})

    run = Invocation.objects.get(function_name="console_forward")
    assert run.status == "Completed"
    assert "forwarding <hello>" in run.logs
    assert sorted(QueuedMessage.objects.filter(queue="console-out").values_list("body", flat=True)) == [
        "<hello>",
        "second",
    ]
    assert not QueuedMessage.objects.filter(queue="console-in").exists()


def test_bad_json_is_refused_and_runs_nothing(operator):
    response = operator.post(run_url("console_double"), {"input": "{not json"}, follow=True)

    assert "the input" in response.content.decode()
    assert not Invocation.objects.exists()
    assert not AuditLogEntry.objects.exists()


def test_an_http_function_is_not_run_by_hand(operator):
    response = operator.post(run_url("console_hello"), {"input": ""}, follow=True)

    assert "call its route" in response.content.decode()
    assert not Invocation.objects.exists()


def test_read_only_refuses_running(operator, settings):
    settings.PERDURA_READ_ONLY = True

    assert operator.post(run_url("console_double"), {"input": "2"}).status_code == 403
    assert not Invocation.objects.exists()


def test_the_run_form_shows_only_to_who_may_run(viewer, operator):
    url = reverse("function", args=["console_double"])
    assert run_url("console_double") not in viewer.get(url).content.decode()
    assert run_url("console_double") in operator.get(url).content.decode()
    assert run_url("console_hello") not in operator.get(reverse("function", args=["console_hello"])).content.decode()
