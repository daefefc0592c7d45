"""/metrics: who may read it, and that its figures move as the work they count is done (with
worker processes in CI's services run, whose counts reach the scrape through the database)."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from functions.registry import FunctionKind, registry
from functions.store import queues
from orchestrations import services
from orchestrations.access import apikeys
from orchestrations.engine import events as ev
from orchestrations.models import Instance, Message, MetricTotal
from orchestrations.store import metrics as store
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scrape(client):
    """Read /metrics with a viewer key: {(sample name, frozenset of labels): value}."""
    _, key = apikeys.create("prometheus", "viewer")

    def read() -> dict[tuple[str, frozenset], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return read


def value(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, frozenset(labels.items())), 0.0)


# Who may read it.


def test_an_anonymous_scrape_is_refused_with_401_and_a_bearer_challenge(client):
    response = client.get("/metrics")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="perdura metrics"'
    assert b"Authorization: Bearer" in response.content


def test_a_wrong_or_revoked_key_is_refused(client):
    _, key = apikeys.create("prometheus", "viewer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer pdk_nothing_real").status_code == 401

    apikeys.revoke(key[: apikeys.PREFIX_LENGTH])

    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_any_role_s_api_key_reads_it_as_a_bearer_token_or_as_the_api_takes_keys(client):
    _, key = apikeys.create("prometheus", "viewer")

    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert client.get("/metrics", HTTP_X_FUNCTIONS_KEY=key).status_code == 200
    assert client.get("/metrics", {"code": key}).status_code == 200


def test_listed_networks_read_it_without_a_key_and_others_do_not(client):
    with override_settings(PERDURA_METRICS_ALLOW_FROM=(ipaddress.ip_network("10.1.0.0/16"),)):
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 401
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401


def test_only_reading_is_allowed(client):
    _, key = apikeys.create("prometheus", "viewer")

    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 405


def test_a_bad_network_setting_stops_the_start_with_its_name(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from consoleapp.env import env_networks

    monkeypatch.setenv("PERDURA_METRICS_ALLOW_FROM", "10.0.0.0/8, prometheus.local")
    with pytest.raises(ImproperlyConfigured, match=r"PERDURA_METRICS_ALLOW_FROM.*prometheus\.local"):
        env_networks("PERDURA_METRICS_ALLOW_FROM")


# The counts, summed in the database.


def test_counts_of_several_flushes_add_up_and_histograms_are_cumulative(scrape):
    before = scrape()
    store.observe(store.INVOCATION_SECONDS, 0.003, "echo", "activity", "Completed")
    store.flush()
    store.observe(store.INVOCATION_SECONDS, 0.2, "echo", "activity", "Completed")
    store.inc(store.CHECKPOINT_RETRIES, "instance", amount=2)
    after = scrape()

    name = "perdura_function_invocation_duration_seconds"
    labels = {"function": "echo", "trigger": "activity", "status": "Completed"}

    def grew(sample: str, **more: str) -> float:
        return value(after, sample, **labels, **more) - value(before, sample, **labels, **more)

    assert grew(f"{name}_bucket", le="0.001") == 0
    assert grew(f"{name}_bucket", le="0.005") == 1
    assert grew(f"{name}_bucket", le="0.25") == 2
    assert grew(f"{name}_bucket", le="+Inf") == 2
    assert grew(f"{name}_count") == 2
    assert grew(f"{name}_sum") == pytest.approx(0.203)
    retries = "perdura_checkpoint_retries_total"
    assert value(after, retries, kind="instance") - value(before, retries, kind="instance") == 2


def test_counts_survive_a_failed_write_for_the_next_flush(monkeypatch):
    from django.db import DatabaseError

    store.flush()
    store.inc(store.CHECKPOINT_RETRIES, "entity")

    def refuse(rows):
        raise DatabaseError("the database is away")

    with monkeypatch.context() as patched:
        patched.setattr(store, "_write", refuse)
        assert store.flush() == 0
    assert store.flush() == 1
    row = MetricTotal.objects.get(name="perdura_checkpoint_retries_total", labels='["entity"]')
    assert row.value >= 1


def test_a_forked_child_does_not_write_its_parent_s_counts_again():
    store.flush()
    store.inc(store.CHECKPOINT_RETRIES, "fork-test")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # The child: what the parent counted is not its own.
        os.write(write, str(len(store._pending)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"0"
    assert store.flush() == 1


def test_names_the_registry_does_not_know_count_as_other():
    assert store.function_label(store.FunctionKind.ORCHESTRATOR, "echo_orchestrator") == "echo_orchestrator"
    assert store.function_label(store.FunctionKind.ORCHESTRATOR, "renamed_long_ago") == store.OTHER
    assert store.function_label(store.FunctionKind.ORCHESTRATOR, "echo") == store.OTHER  # An activity.


# Gauges read from the tables.


def test_backlog_per_queue_and_its_oldest_item_s_age(scrape):
    services.start("echo_orchestrator", 1)
    Instance.objects.update(next_message_at=timezone.now() - timedelta(seconds=30))
    queues.put_messages("metrics-q", ["a", "b", "c"])

    figures = scrape()

    assert value(figures, "perdura_queue_ready", queue="orchestrations", kind="engine") == 1
    assert value(figures, "perdura_queue_oldest_ready_age_seconds", queue="orchestrations", kind="engine") >= 30
    assert value(figures, "perdura_queue_ready", queue="activities", kind="engine") == 0
    # A queue no registered function reads is counted, but under "other".
    assert value(figures, "perdura_queue_ready", queue="other", kind="trigger") == 3
    assert value(figures, "perdura_queue_ready", queue="metrics-q", kind="trigger") == 0


def test_timers_due_and_their_lateness(scrape):
    services.start("wait_for_approval")
    due = timezone.now() - timedelta(seconds=12)
    Message.objects.create(
        instance_id=Instance.objects.get().pk,
        event_type=str(ev.EventType.TIMER_FIRED),
        event=ev.timer_fired(due, 1, due).to_dict(),
        visible_at=due,
    )

    figures = scrape()

    assert value(figures, "perdura_timers_due", kind="durable") == 1
    assert value(figures, "perdura_timers_lateness_seconds", kind="durable") >= 12


def test_instances_by_status_keep_their_labels_bounded_by_the_registry(scrape):
    now = timezone.now()
    Instance.objects.bulk_create(
        Instance(instance_id=f"i{n}", name=name, execution_id="e", runtime_status=status, created_at=now)
        for n, (name, status) in enumerate(
            [("echo_orchestrator", "Completed")] * 3 + [("gone_orchestrator", "Failed")] * 2 + [("gone_too", "Failed")]
        )
    )

    figures = scrape()

    assert value(figures, "perdura_orchestrations", orchestrator="echo_orchestrator", status="Completed") == 3
    assert value(figures, "perdura_orchestrations", orchestrator="other", status="Failed") == 3
    labels = {dict(key[1]).get("orchestrator") for key in figures if key[0] == "perdura_orchestrations"}
    assert "gone_orchestrator" not in labels and "i0" not in str(figures)


@pytest.mark.slow
def test_label_values_stay_bounded_with_100_000_instances(scrape):
    names = ["echo_orchestrator", "echo_each", "never_registered"]
    statuses = ["Completed", "Failed", "Running", "Terminated"]
    now = timezone.now()
    Instance.objects.bulk_create(
        (
            Instance(
                instance_id=f"bulk-{n:06d}",
                name=names[n % 3],
                execution_id="e",
                runtime_status=statuses[n % 4],
                created_at=now,
            )
            for n in range(100_000)
        ),
        batch_size=5_000,
    )
    before = scrape()

    Instance.objects.filter(instance_id__startswith="bulk-01").update(runtime_status="Suspended")
    figures = scrape()

    # Statuses move, and ids never become labels: the one new series is other/Suspended.
    assert set(figures) - set(before) == {
        ("perdura_orchestrations", frozenset({("orchestrator", "other"), ("status", "Suspended")}))
    }
    orchestrators = {dict(labels)["orchestrator"] for name, labels in figures if name == "perdura_orchestrations"}
    assert orchestrators == {*registry.names(FunctionKind.ORCHESTRATOR), "other"}
    total = sum(v for (name, _), v in figures.items() if name == "perdura_orchestrations")
    assert total == 100_000
    assert not any("bulk-" in label for _, labels in figures for _, label in labels)


# The counters move as work is done.


@pytest.mark.slow
def test_a_run_moves_the_counters_it_should(scrape, client, workers):
    _, operator = apikeys.create("starter", "operator")
    before = scrape()

    started = client.post(
        "/runtime/webhooks/durabletask/orchestrators/echo_each",
        data=[1, 2, 3],
        content_type="application/json",
        HTTP_X_FUNCTIONS_KEY=operator,
    )
    assert started.status_code == 202
    failing = services.start("failing_orchestrator")
    waiting = services.start("wait_for_approval")
    wait_until(
        lambda: (
            services.get(started.json()["id"]).runtime_status == "Completed"
            and services.get(failing).runtime_status == "Failed"
        ),
        message="the instances to finish",
    )
    services.terminate(waiting, "no longer wanted")
    wait_until(lambda: services.get(waiting).runtime_status == "Terminated", message="the termination")

    def moved(after: dict) -> dict[str, float]:
        def grew(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        return {
            "started": grew("perdura_orchestrations_started_total", orchestrator="echo_each"),
            "completed": grew("perdura_orchestrations_finished_total", orchestrator="echo_each", status="Completed"),
            "failed": grew(
                "perdura_orchestrations_finished_total", orchestrator="failing_orchestrator", status="Failed"
            ),
            "terminated": grew(
                "perdura_orchestrations_finished_total", orchestrator="wait_for_approval", status="Terminated"
            ),
            "episodes": grew("perdura_episode_duration_seconds_count", orchestrator="echo_each"),
            "activities": grew(
                "perdura_function_invocation_duration_seconds_count",
                function="echo",
                trigger="activity",
                status="Completed",
            ),
            "waits": grew("perdura_activity_schedule_to_start_seconds_count", activity="echo"),
            "api": grew("perdura_http_api_requests_total", route="start_orchestration", method="POST", code="202"),
            "completed now": grew("perdura_orchestrations", orchestrator="echo_each", status="Completed"),
        }

    # Worker processes add their counts about once a second.
    figures = wait_until(
        lambda: (m := moved(scrape()))["terminated"] == 1 and m["activities"] >= 3 and m["waits"] >= 3 and m,
        message="the workers' counts to reach the scrape",
    )
    assert figures["started"] == 1
    assert figures["completed"] == 1
    assert figures["failed"] == 1
    assert figures["episodes"] >= 2  # Chained activities may be carried on within one claim.
    assert figures["api"] == 1
    assert figures["completed now"] == 1


def test_with_metrics_off_nothing_is_counted(settings):
    store.flush()
    settings.PERDURA_METRICS = False

    store.inc(store.CHECKPOINT_RETRIES, "off")
    store.observe(store.EPISODE_SECONDS, 0.1, "echo_orchestrator")

    assert store.flush() == 0


def test_the_grafana_dashboard_draws_only_metrics_that_are_served(client):
    import json
    import re
    from pathlib import Path

    _, key = apikeys.create("prometheus", "viewer")
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {key}").content.decode()
    suffixes = {"histogram": ("_bucket", "_count", "_sum"), "counter": ("_total",), "gauge": ("",)}
    served = {
        family.name + suffix for family in text_string_to_metric_families(text) for suffix in suffixes[family.type]
    }
    dashboard = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]

    used = {name for expr in expressions for name in re.findall(r"\b(perdura_[a-z_]+)", expr)}
    assert used and used <= served, used - served


def test_retries_set_aside_messages_and_lease_expiries_are_counted(scrape):
    from orchestrations.models import WorkerHeartbeat, WorkItem
    from orchestrations.store.claims import claim_work_items
    from orchestrations.worker.failures import MAX_FAILED_ATTEMPTS
    from orchestrations.worker.loop import drain, drain_all

    before = scrape()
    # An inbox message no episode can read: retried up to the bound, then set aside.
    services.start("wait_for_approval", instance_id="unreadable")
    drain_all()
    message = Message.objects.create(
        instance_id="unreadable", event_type="EventRaised", event={"no timestamp": True}, visible_at=timezone.now()
    )
    Instance.objects.filter(pk="unreadable").update(next_message_at=message.visible_at)
    for _ in range(MAX_FAILED_ATTEMPTS):
        Instance.objects.update(lease_expires_at=None)
        drain_all()
    # A worker that dies holding an activity: its lease runs out and another runs it.
    services.start("echo_orchestrator", 1, instance_id="orphaned")
    drain("orchestrations")
    [taken] = claim_work_items("dead-worker", 1)
    WorkItem.objects.filter(pk=taken.item.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    drain_all()
    WorkerHeartbeat.objects.create(worker_id="w:1", hostname="w", pid=1, mode="celery", queues={"activities": 8})
    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("perdura_checkpoint_retries_total", kind="instance") == MAX_FAILED_ATTEMPTS
    assert grew("perdura_messages_set_aside_total", kind="orchestration") == 1
    assert grew("perdura_orchestrations_finished_total", orchestrator="wait_for_approval", status="Failed") == 1
    assert grew("perdura_lease_expiries_total", queue="activities") == 1
    assert value(after, "perdura_set_aside_messages") == 1
    assert value(after, "perdura_workers", mode="celery") == 1
    assert value(after, "perdura_worker_slots", queue="activities") == 8
    assert services.get("orphaned").runtime_status == "Completed"


def test_an_ipv4_client_of_a_dual_stack_listener_is_matched_as_ipv4(client):
    with override_settings(PERDURA_METRICS_ALLOW_FROM=(ipaddress.ip_network("10.1.0.0/16"),)):
        assert client.get("/metrics", REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200


def test_the_address_list_is_refused_where_the_address_comes_from_a_header():
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PERDURA_METRICS_ALLOW_FROM": "10.0.0.0/8", "PERDURA_TRUST_X_FORWARDED_FOR": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "PERDURA_METRICS_ALLOW_FROM cannot be used with PERDURA_TRUST_X_FORWARDED_FOR" in result.stderr
