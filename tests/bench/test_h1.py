"""H1 at a trivial duration: a real Daphne server on the test database, both targets loaded,
every invocation on record. No timing is asserted: timings belong in bench/RESULTS.md."""

from __future__ import annotations

import dataclasses

import pytest
from django.test import Client

import bench.functions  # noqa: F401  (registers the bench function app in this process)
from bench import runner
from functions.models import Invocation
from tests.bench.test_runner import TINY

# The server writes the rows this test counts, and this process's recorder thread writes those
# of the requests made here through the test client, each with a connection of its own: every
# test commits, so that all of them see the same rows, and starts and ends with none buffered.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_recorder")]


@pytest.mark.slow
def test_a_tiny_h1_run_measures_both_targets_and_records_every_invocation():
    sizes = dataclasses.replace(TINY, h1_seconds=0.5, h1_warmup_seconds=0.2, timeout=60)

    figures = runner.run_http_hello(sizes, progress=lambda line: None)

    by_title_and_metric = {(figure.title.split(",")[0], figure.metric): figure for figure in figures}
    for title in ("HTTP function hello", "Plain Django view hello"):
        for metric in ("requests/s", "p50 latency (ms)", "p99 latency (ms)"):
            figure = by_title_and_metric[(title, metric)]
            assert figure.value is not None and figure.value > 0, figure.details
    assert by_title_and_metric[("HTTP function hello", "requests/s over the plain view's")].value > 0
    recording = by_title_and_metric[("HTTP function hello", "% of invocations recorded")]
    assert recording.value == 100.0, recording.details
    answered = recording.details["answered"]
    assert answered > 0
    assert Invocation.objects.filter(function_name="bench_http_hello", status="Completed", status_code=200).count() == (
        answered
    )
    targets = {figure.metric: figure.target for figure in figures if figure.title.startswith("HTTP function")}
    assert targets == {
        "requests/s": 1000.0,
        "p50 latency (ms)": None,
        "p99 latency (ms)": 50.0,
        "requests/s over the plain view's": 0.8,
        "% of invocations recorded": 100.0,
    }


def test_the_plain_view_is_served_only_under_the_bench_settings():
    """A deployment (consoleapp.settings) has no such page; the HTTP function is there."""
    browser = Client()

    assert browser.get("/bench/plain-hello").status_code == 404
    assert browser.get("/api/bench/hello").content == b"hello"


def test_the_plain_view_answers_what_the_function_answers(settings):
    settings.ROOT_URLCONF = "bench.urls"
    browser = Client()

    plain = browser.get("/bench/plain-hello")
    function = browser.get("/api/bench/hello")

    assert (plain.status_code, plain.content, plain["Content-Type"]) == (
        function.status_code,
        function.content,
        function["Content-Type"],
    )
