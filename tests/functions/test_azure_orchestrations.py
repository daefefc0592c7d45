"""Orchestrations and entities of an Azure Functions app (tests/azure_function_app.py) run by
the official SDK through its out-of-process protocol, on Perdura's engine
(functions/azure/orchestrator.py): every pattern of the samples, failures with the SDK's
message and the user's stack, and the same outputs and histories as the same orchestrations
written with Perdura's API (tests/function_apps_azure_twins.py)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow
from orchestrations.worker.loop import drain_all
from tests.samples import COMPLETION_TIMEOUT, output_of, run_to_end

pytestmark = pytest.mark.django_db(transaction=True)


def calls_of(instance_id: str) -> list[tuple[str, str | None, str | None]]:
    """The instance's history as the calls it made and what came back, without times, ids
    and the orchestrator's own name."""
    rows = HistoryRow.objects.filter(instance_id=instance_id).order_by("execution_id", "sequence")
    skipped = {"OrchestratorStarted", "ExecutionStarted", "ExecutionCompleted"}
    return [
        (row.event_type, row.name, row.data.replace(instance_id, "<id>") if row.data else row.data)
        for row in rows
        if row.event_type not in skipped
    ]


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("az_chaining", None, ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]),
        ("az_fan_out_fan_in", 50, 2 * sum(range(50))),
        ("az_parent", None, ["Hello Oslo!", "Hello Lima!", "Hello Cairo!"]),
        ("az_eternal", 0, "ended at generation 2"),
        ("az_human_interaction", 0.2, "timed out"),
        ("az_monitor", None, 3),
    ],
)
def test_each_pattern_runs_through_the_sdk(name, given, expected):
    assert output_of(services.start(name, given)) == expected


def test_an_event_wins_the_race_with_the_timer_and_the_timer_is_cancelled():
    instance_id = services.start("az_human_interaction", 3600)
    drain_all()
    services.raise_event(instance_id, "Approval", {"by": "ada"})

    assert output_of(instance_id) == "approved: {'by': 'ada'}"
    fired = HistoryRow.objects.filter(instance_id=instance_id, event_type="TimerFired")
    assert not fired.exists()


def test_retries_are_the_engine_s_and_the_sdk_sees_the_last_failure():
    instance_id = services.start("az_retry")

    output = output_of(instance_id)

    assert output.startswith("gave up: az_fail_always refused x")
    kinds = [kind for kind, _, _ in calls_of(instance_id)]
    assert kinds.count("TaskScheduled") == 3
    assert kinds.count("TaskFailed") == 3
    assert kinds.count("TimerFired") == 2
    twin_id = services.start("twin_retry")
    assert output_of(twin_id) == "gave up"
    assert calls_of(instance_id) == calls_of(twin_id)


def test_the_counter_entity_runs_through_the_sdk_batch_protocol():
    instance_id = services.start("az_counter_user", "k1")

    assert output_of(instance_id) == 7


def test_custom_status_reaches_the_instance():
    instance_id = services.start("az_eternal", 2)
    run_to_end(instance_id)

    assert json.loads(services.get(instance_id).custom_status) == {"generation": 2}


def test_new_uuid_and_the_clock_are_the_same_on_every_replay():
    instance_id = services.start("az_new_uuid_and_time")
    output = output_of(instance_id)

    # The SDK replays the code from the start in every episode: the uuid made in the first
    # episode (sent to the activity then) is the one the last episode computed again.
    first, second = output["uuids"]
    assert output["echoed"] == f"Hello {first}!"
    assert first != second
    last_episode = HistoryRow.objects.filter(instance_id=instance_id, event_type="OrchestratorStarted").last()
    assert datetime.fromisoformat(output["now"]) == last_episode.timestamp


def test_a_failing_orchestrator_fails_with_the_sdk_s_message_and_the_user_s_stack():
    instance_id = services.start("az_failing")
    instance = run_to_end(instance_id)

    assert instance.runtime_status == "Failed"
    failure = instance.failure
    assert failure["message"] == "Orchestrator function 'az_failing' failed: the Azure orchestrator failed on purpose"
    assert 'azure_function_app.py", line' in failure["stack_trace"]
    assert "in az_failing" in failure["stack_trace"]


@pytest.mark.parametrize(
    ("azure_name", "twin_name", "given"),
    [
        ("az_chaining", "twin_chaining", ["Oslo", "Quito"]),
        ("az_fan_out_fan_in", "twin_fan_out_fan_in", 5),
        ("az_parent", "twin_parent", None),
        ("az_human_interaction", "twin_human_interaction", 0.2),
        ("az_eternal", "twin_eternal", 1),
        ("az_counter_user", "twin_counter_user", "equivalence"),
        ("az_monitor", "twin_monitor", None),
    ],
)
def test_the_same_orchestration_written_both_ways_gives_the_same_output_and_history(azure_name, twin_name, given):
    azure_id = services.start(azure_name, given)
    azure_output = output_of(azure_id)
    twin_id = services.start(twin_name, given if azure_name != "az_counter_user" else "equivalence-twin")
    twin_output = output_of(twin_id)

    if azure_name == "az_counter_user":
        assert (azure_output, twin_output) == (7, 7)
    else:
        assert azure_output == twin_output
    azure_calls = [(kind, name, data) for kind, name, data in calls_of(azure_id)]
    twin_calls = [(kind, name, data) for kind, name, data in calls_of(twin_id)]
    if azure_name == "az_counter_user":
        # The entity key is the input, which differs so that the two counters start at 0.
        azure_calls = [(k, n, d.replace("equivalence", "KEY") if d else d) for k, n, d in azure_calls]
        twin_calls = [(k, n, d.replace("equivalence-twin", "KEY") if d else d) for k, n, d in twin_calls]
    assert azure_calls == [(k, n.replace("twin_", "az_") if n else n, d) for k, n, d in twin_calls]


@pytest.mark.slow
def test_every_pattern_completes_with_background_workers(workers):
    """In CI's second run, on PostgreSQL with Celery worker processes running the SDK."""
    started = {
        name: services.start(name, given)
        for name, given in [
            ("az_chaining", None),
            ("az_fan_out_fan_in", 20),
            ("az_parent", None),
            ("az_eternal", 0),
            ("az_human_interaction", 0.5),
            ("az_retry", None),
            ("az_counter_user", "background"),
            ("az_monitor", None),
        ]
    }
    approved = services.start("az_human_interaction", 3600)
    # Raised before the orchestration waits for it (even before it starts): kept until it does.
    services.raise_event(approved, "Approval", "in the background")

    outputs = {}
    for name, instance_id in {**started, "approved": approved}.items():
        instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)
        assert instance.runtime_status == "Completed", (name, instance.failure)
        outputs[name] = json.loads(instance.output)

    assert outputs["az_chaining"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert outputs["az_fan_out_fan_in"] == 2 * sum(range(20))
    assert outputs["az_parent"] == ["Hello Oslo!", "Hello Lima!", "Hello Cairo!"]
    assert outputs["az_eternal"] == "ended at generation 2"
    assert outputs["az_human_interaction"] == "timed out"
    assert outputs["az_retry"].startswith("gave up: az_fail_always refused x")
    assert outputs["az_counter_user"] == 7
    assert outputs["az_monitor"] == 3
    assert outputs["approved"] == "approved: in the background"


def test_an_orchestrator_the_sdk_rejects_fails_with_the_sdk_s_message():
    instance = run_to_end(services.start("az_yields_a_number"))

    assert instance.runtime_status == "Failed"
    assert instance.failure["message"] == (
        "Orchestrator function 'az_yields_a_number' failed: AttributeError: 'int' object has no attribute '_is_scheduled'"
    )
    assert "azure/durable_functions" in instance.failure["stack_trace"]  # Where the SDK stopped.


@pytest.mark.slow
def test_call_http_runs_on_the_engine_with_its_polling(allow_live_server, workers):
    instance_id = services.start("az_call_http", f"{allow_live_server}/samples/exports/")

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed", instance.failure
    response = json.loads(instance.output)
    assert response["statusCode"] == 200
    assert json.loads(response["content"]) == {"report": "azure", "status": "Ready"}


@pytest.mark.parametrize("schema", [0, 1, 2])
def test_every_schema_version_of_the_sdk_s_answer_is_understood(monkeypatch, schema):
    """0 is V1 (a list of actions per yield, task_all's flattened into it), 1 V2 and 2 V3 (one
    list, task_all and task_any as compound actions)."""
    from functions.azure import orchestrator

    monkeypatch.setattr(orchestrator, "UPPER_SCHEMA_VERSION", schema)

    assert output_of(services.start("az_fan_out_fan_in", 4)) == 12
    assert output_of(services.start("az_chaining", ["Bern"])) == ["Hello Bern!"]
    assert output_of(services.start("az_human_interaction", 0.1)) == "timed out"
    assert output_of(services.start("az_retry")).startswith("gave up")


def test_a_cold_replay_asks_the_sdk_only_what_this_process_has_not_asked_before(monkeypatch):
    """Each episode replayed from the start (no worker keeps it live): every round of the
    replay was asked before, so the SDK is asked once per round in all, not once per round in
    every episode."""
    from functions.azure import orchestrator
    from orchestrations.worker import episodes

    monkeypatch.setattr(episodes.replay_cache, "remember", lambda plan: None)
    asked = []
    handle = orchestrator.SdkOrchestration._handle
    monkeypatch.setattr(orchestrator.SdkOrchestration, "_handle", lambda self, r: asked.append(1) or handle(self, r))
    cities = [f"city {number}" for number in range(10)]

    monkeypatch.setattr(orchestrator, "_answers", orchestrator.AnswerCache(budget=0))
    assert output_of(services.start("az_chaining", cities)) == [f"Hello {city}!" for city in cities]
    without_answers = len(asked)
    asked.clear()
    monkeypatch.setattr(orchestrator, "_answers", orchestrator.AnswerCache(budget=1024 * 1024))
    assert output_of(services.start("az_chaining", cities)) == [f"Hello {city}!" for city in cities]

    assert len(asked) == 11  # The first round, and one after each of the ten results.
    assert without_answers == sum(range(1, 12))  # Episode n replays n rounds.


def test_a_race_still_hears_from_a_call_an_earlier_race_started():
    assert output_of(services.start("az_race_with_an_older_call")) == "the timer fired"


def test_waiting_for_what_can_never_answer_fails_the_instance_rather_than_spinning():
    instance = run_to_end(services.start("az_yields_a_signal"))

    assert instance.runtime_status == "Failed"
    assert "waits for nothing Perdura can deliver" in instance.failure["message"]
