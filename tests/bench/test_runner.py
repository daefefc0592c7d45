"""The benchmark runner at trivial sizes: it runs the workloads and turns what they measured
into result rows. No timing is asserted: timings belong in bench/RESULTS.md, not in tests."""

from __future__ import annotations

import pytest

import bench.azure_functions
import bench.functions  # Registers the bench function app in this process.
from bench import environment, report, runner
from bench.sizes import Sizes
from functions.azure.loader import register_azure_apps
from orchestrations.models import Instance
from tests.conftest import TEST_FUNCTION_APPS, WorkerProcess, is_celery_mode

# W1 and W2 run the same orchestrations written for Azure Functions too.
register_azure_apps(bench.azure_functions)

TINY = Sizes(
    w1_instances=3,
    w2_steps=3,
    w2_repetitions=1,
    w3_activities=3,
    w4_signals=5,
    w5_instances=100,
    w5_history_events=10,
    w5_repetitions=2,
    timeout=120,
)


@pytest.fixture
def bench_workers(request, transactional_db):
    """The test's workers, knowing the bench function app too: worker processes import only
    the function apps they are told to."""
    if not is_celery_mode():
        yield request.getfixturevalue("workers")
        return
    apps = f"{TEST_FUNCTION_APPS},bench.functions,bench.azure_functions"
    process = WorkerProcess({"PERDURA_FUNCTION_APPS": apps}).start()
    yield process
    process.stop()


def record_of(figures) -> report.RunRecord:
    return report.RunRecord(
        started_at="2026-01-02T03:04:05+00:00",
        commit="abc1234",
        dirty=True,
        mode="embedded",
        quick=True,
        command="python -m bench --quick",
        machine=environment.machine(),
        database=environment.database_facts(),
        workers={"kind": "inprocess", "concurrency": {"orchestrations": 1, "activities": 4, "entities": 1}},
        broker="none (in-process wake-ups)",
        figures=figures,
    )


@pytest.mark.slow
def test_a_tiny_w1_run_gives_a_result_row_per_figure_with_every_column(bench_workers):
    figures = runner.run_engine_workloads(["W1"], TINY, embedded=True, progress=lambda line: None)

    throughput = figures[0]
    assert throughput.value is not None and throughput.value > 0, throughput.details
    assert throughput.details["instances"] == 3
    assert Instance.objects.filter(name="bench_hello_sequence5", runtime_status="Completed").count() == 3
    assert Instance.objects.filter(name="bench_az_hello_sequence5", runtime_status="Completed").count() == 3
    azure = figures[3]
    assert azure.title == "HelloSequence5 x3, Azure SDK"
    assert azure.target == pytest.approx(throughput.value * 0.5)
    rows = report.rows(record_of(figures))
    assert [set(row) for row in rows] == [set(report.COLUMNS)] * 6
    assert [row["Figure"].split(" ", 1)[1] for row in rows] == [
        "orchestrations/s",
        "p50 instance latency (ms)",
        "p99 instance latency (ms)",
    ] * 2
    assert rows[0]["Workload"] == "W1 HelloSequence5 x3 (quick)"
    assert rows[0]["Target"].startswith(">= 50.0 (")
    assert rows[0]["Commit"] == "abc1234+"
    assert rows[0]["DBOS"] == "-"


@pytest.mark.django_db
def test_a_tiny_w5_run_loads_the_instances_and_times_each_list_query():
    figures = runner.run_console_scale(TINY, progress=lambda line: None)

    assert Instance.objects.filter(instance_id__startswith="w5-0").count() == 100
    by_metric = {figure.metric: figure for figure in figures}
    assert {metric: figure.details["rows_returned"] for metric, figure in by_metric.items()} == {
        "list page, first page (ms)": 50,
        "list page, status filter Failed (ms)": 5,  # rows 85..89 of every hundred
        "list page, name filter payment_saga (ms)": 10,  # every tenth row
        "instance page, 10 events (ms)": 10,
    }
    assert all(figure.value is not None and figure.details["repetitions"] == 2 for figure in figures)
    rows = report.rows(record_of(figures))
    assert [row["Target"].split(" (")[0] for row in rows] == ["<= 150", "<= 150", "<= 150", "<= 1,000"]


@pytest.mark.slow
def test_a_tiny_o1_run_measures_w1_and_w2_off_then_on_and_exports_the_spans(bench_workers, settings):
    from bench import o1_observability

    environments = []

    def with_workers(extra_env, measure):
        # The workers are the test's own: the environment asked for is checked, not applied.
        environments.append(extra_env)
        return measure()

    counting = settings.PERDURA_METRICS
    figures = o1_observability.run(TINY, with_workers=with_workers, progress=lambda line: None)

    states = ["off", "on, 1 trace in 10 recorded", "on, every trace recorded", "on, every trace exported over OTLP"]
    assert [figure.title for figure in figures] == [
        *(f"W1 HelloSequence5 x3, metrics and traces {state}" for state in states),
        *(f"W2 Chain3, metrics and traces {state}" for state in states),
    ]
    assert all(figure.workload == "O1" and figure.value for figure in figures), [f.details for f in figures]
    # Off, sampled, sampled, off (order effects weigh on both alike); then every trace, and OTLP.
    assert [(env["PERDURA_METRICS"], env.get("OTEL_TRACES_EXPORTER")) for env in environments] == [
        ("false", "none"),
        ("true", "perdura_bench_discard"),
        ("true", "perdura_bench_discard"),
        ("false", "none"),
        ("true", "perdura_bench_discard"),
        ("true", "otlp"),
    ]
    assert environments[1]["OTEL_TRACES_SAMPLER_ARG"] == "0.1"
    assert environments[5]["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://127.0.0.1:")
    assert [len(figure.details["rounds"]) for figure in figures] == [2, 2, 1, 1] * 2
    assert figures[1].target == pytest.approx(round(figures[0].value * 0.9, 2))
    assert figures[5].target == pytest.approx(round(figures[4].value / 0.9, 2))
    assert figures[-1].details["otlp_exports"] > 0  # The OTLP round's spans went all the way out.
    assert counting == settings.PERDURA_METRICS
    rows = report.rows(record_of(figures))
    assert rows[0]["Workload"].startswith("O1 ")
