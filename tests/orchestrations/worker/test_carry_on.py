"""An activity worker carrying on: the results it reports go straight into the orchestration's
next episode, in the transaction that records them, when nothing else has a claim on the
instance; otherwise they go through the inbox as before."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from functions.activities import run_activity
from functions.models import Invocation
from orchestrations import services
from orchestrations.models import HistoryRow, Instance, Message, WorkItem
from orchestrations.store import checkpoint
from orchestrations.store.claims import claim_work_items
from orchestrations.worker import activities
from orchestrations.worker.activities import complete_work_items
from orchestrations.worker.loop import drain_all, process_batch
from orchestrations.worker.replay_cache import replay_cache
from tests.orchestrations.helpers import run_orchestrations

pytestmark = pytest.mark.django_db


def start_chain(instance_id: str, items: list[str]) -> WorkItem:
    """An echo_each instance whose first activity waits for an activity worker."""
    services.start("echo_each", items, instance_id=instance_id)
    run_orchestrations()
    return WorkItem.objects.get(instance_id=instance_id)


def complete_claimed(worker_id: str = "worker-a", *, carry_on: bool = True, limit: int = 10) -> list:
    claimed = claim_work_items(worker_id, limit)
    outcomes = [run_activity(run.item.name, run.item.input) for run in claimed]
    return complete_work_items(claimed, outcomes, worker_id, carry_on=carry_on)


def event_types(instance_id: str) -> list[str]:
    return list(
        HistoryRow.objects.filter(instance_id=instance_id).order_by("sequence").values_list("event_type", flat=True)
    )


def test_a_result_runs_the_next_episode_at_once_without_an_inbox_message():
    first = start_chain("chain", ["a", "b"])

    [run] = complete_claimed()
    kept, execution = run.item, run.execution

    assert not Message.objects.filter(instance_id="chain").exists()
    assert event_types("chain")[-3:] == ["OrchestratorStarted", "TaskCompleted", "TaskScheduled"]
    # The next call took over the finished call's row, leased to this worker, which runs it.
    [row] = WorkItem.objects.filter(instance_id="chain")
    assert row.pk == first.pk == kept.pk
    assert (row.task_id, row.input, row.lease_owner, row.deliveries) == (1, '"b"', "worker-a", 1)
    assert row.lease_expires_at > timezone.now()
    finished, running = Invocation.objects.order_by("pk")
    assert (finished.status, finished.output, finished.task_id) == ("Completed", '"a"', 0)
    assert (running.pk, running.status, running.task_id, running.work_item_id) == (execution.pk, "Running", 1, row.pk)
    instance = services.get("chain")
    assert (instance.runtime_status, instance.history_length, instance.lease_owner) == ("Running", 6, None)
    assert instance.next_message_at is None


def test_the_kept_activity_is_run_and_the_chain_finishes_in_the_same_worker_call():
    start_chain("chain", ["a", "b", "c"])

    assert activities.process_activities("worker-a", 10) == 3

    instance = services.get("chain")
    assert (instance.runtime_status, json.loads(instance.output)) == ("Completed", ["a", "b", "c"])
    assert not WorkItem.objects.exists()
    assert not Message.objects.exists()
    assert list(Invocation.objects.order_by("task_id").values_list("status", flat=True)) == ["Completed"] * 3


def test_a_result_waits_in_the_inbox_behind_an_event_that_came_first():
    services.start("echo_each", ["a"], instance_id="chain")
    run_orchestrations()
    services.raise_event("chain", "unrelated", "early")

    assert complete_claimed() == []

    queued = list(Message.objects.filter(instance_id="chain").order_by("pk").values_list("event_type", flat=True))
    assert queued == ["EventRaised", "TaskCompleted"]
    assert event_types("chain")[-1] == "TaskScheduled"
    assert not WorkItem.objects.exists()
    drain_all()
    assert json.loads(services.get("chain").output) == ["a"]


def test_a_result_for_a_suspended_instance_waits_in_its_inbox():
    start_chain("chain", ["a", "b"])
    services.suspend("chain", "hold on")
    run_orchestrations()

    assert complete_claimed() == []

    assert Message.objects.filter(instance_id="chain", event_type="TaskCompleted").exists()
    services.resume("chain", "go on")
    drain_all()
    assert json.loads(services.get("chain").output) == ["a", "b"]


def test_a_result_for_an_instance_another_worker_holds_goes_to_the_inbox():
    start_chain("chain", ["a"])
    Instance.objects.filter(pk="chain").update(
        lease_owner="worker-b", lease_expires_at=timezone.now() + timedelta(seconds=30)
    )

    assert complete_claimed() == []

    assert Message.objects.filter(instance_id="chain", event_type="TaskCompleted").exists()
    assert services.get("chain").lease_owner == "worker-b"
    assert event_types("chain")[-1] == "TaskScheduled"


def test_a_result_whose_work_item_was_taken_over_is_dropped_and_runs_nothing():
    start_chain("chain", ["a", "b"])
    claimed = claim_work_items("worker-a", 10)
    WorkItem.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    claim_work_items("worker-b", 10)

    kept = complete_work_items(claimed, [run_activity("echo", '"a"')], "worker-a", carry_on=True)

    assert kept == []
    assert event_types("chain")[-1] == "TaskScheduled"
    assert WorkItem.objects.get().lease_owner == "worker-b"
    assert not Message.objects.exists()


def test_a_failure_while_carrying_on_delivers_the_result_instead_and_loses_nothing(monkeypatch):
    start_chain("chain", ["a", "b"])

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-checkpoint")

    monkeypatch.setattr(checkpoint, "run_statements", broken)
    assert complete_claimed() == []
    monkeypatch.undo()

    assert Message.objects.filter(instance_id="chain", event_type="TaskCompleted").count() == 1
    assert event_types("chain")[-1] == "TaskScheduled"
    assert Invocation.objects.get().status == "Completed"
    # The replay advanced by the failed attempt was not kept.
    assert replay_cache.take_many([Instance.objects.get(pk="chain")])["chain"].replay is None
    drain_all()
    assert json.loads(services.get("chain").output) == ["a", "b"]


def test_results_of_several_instances_run_their_episodes_together():
    # Enough of them for the statements to take arrays on PostgreSQL (bulk.ARRAY_ROWS).
    names = [f"chain-{number:02}" for number in range(12)]
    for name in names:
        start_chain(name, [name, name])

    kept = complete_claimed(limit=20)

    assert sorted(run.item.instance_id for run in kept) == names
    assert not Message.objects.exists()
    for name in names:
        assert event_types(name)[-1] == "TaskScheduled"
        assert services.get(name).history_length == 6
    assert WorkItem.objects.filter(lease_owner="worker-a", deliveries=1).count() == 12
    assert Invocation.objects.filter(status="Completed").count() == 12


def test_without_carry_on_results_go_to_the_inbox():
    start_chain("chain", ["a"])

    assert complete_claimed(carry_on=False) == []

    assert Message.objects.filter(instance_id="chain", event_type="TaskCompleted").exists()
    assert not WorkItem.objects.exists()


def test_an_instance_someone_else_wrote_meanwhile_is_read_again_and_replayed():
    start_chain("chain", ["a", "b"])
    # This worker keeps the instance's live replay; another worker writes the row since.
    Instance.objects.filter(pk="chain").update(updated_at=timezone.now() + timedelta(seconds=1))

    [run] = complete_claimed()
    kept = run.item

    assert not Message.objects.exists()
    assert event_types("chain") == [
        *["OrchestratorStarted", "ExecutionStarted", "TaskScheduled"],
        *["OrchestratorStarted", "TaskCompleted", "TaskScheduled"],
    ]
    assert (kept.task_id, kept.input) == (1, '"b"')
    complete_work_items([run], [run_activity("echo", kept.input)], "worker-a", carry_on=True)
    assert json.loads(services.get("chain").output) == ["a", "b"]


def test_an_episode_that_writes_to_another_instance_locks_both_and_is_written():
    services.start(
        "call_sub_orchestrator_by_name", {"orchestrator": "echo_orchestrator", "input": "x"}, instance_id="parent"
    )
    run_orchestrations()
    [child] = Instance.objects.exclude(pk="parent")

    assert complete_claimed() == []

    assert services.get(child.pk).runtime_status == "Completed"
    [answer] = Message.objects.filter(instance_id="parent")
    assert answer.event_type == "SubOrchestrationInstanceCompleted"
    drain_all()
    assert services.get("parent").runtime_status == "Completed"


def test_an_episode_that_took_every_message_leaves_nothing_to_wake_up_for():
    services.start("echo_each", ["a"], instance_id="chain")

    assert process_batch("orchestrations") == 1

    instance = services.get("chain")
    assert not Message.objects.filter(instance_id="chain").exists()
    assert (instance.next_message_at, instance.lease_owner) == (None, None)


def carry_on_calls(monkeypatch) -> list[str]:
    """Record, for each attempt at carrying on, whether it planned from the rows this worker
    left ("as left") or from rows it locked and read first ("locked first")."""
    calls: list[str] = []
    real = activities._carry_on

    def recording(answers, worker_id, now, instance_ids, as_left=None):
        calls.append("locked first" if as_left is None else "as left")
        return real(answers, worker_id, now, instance_ids, as_left)

    monkeypatch.setattr(activities, "_carry_on", recording)
    return calls


def complete_kept(kept: list, worker_id: str = "worker-a") -> list:
    outcomes = [run_activity(run.item.name, run.item.input) for run in kept]
    return complete_work_items(kept, outcomes, worker_id, carry_on=True)


def test_a_chain_this_worker_wrote_last_is_locked_and_checked_in_the_round_trip_that_writes_it(monkeypatch):
    start_chain("chain", ["a", "b", "c"])
    kept = complete_claimed()  # This worker has now written the instance last.
    calls = carry_on_calls(monkeypatch)
    batches = []
    real_run = checkpoint.run_statements
    monkeypatch.setattr(activities, "run_statements", lambda statements: pytest.fail("a round trip of its own"))
    monkeypatch.setattr(
        checkpoint, "run_statements", lambda statements: batches.append(statements) or real_run(statements)
    )

    [run] = complete_kept(kept)
    kept = run.item

    assert calls == ["as left"]
    [batch] = batches
    assert batch[0].sql.startswith("SELECT") and "orchestrations_instance" in batch[0].sql
    assert kept.task_id == 2
    assert event_types("chain")[-3:] == ["OrchestratorStarted", "TaskCompleted", "TaskScheduled"]
    assert services.get("chain").history_length == 9


def test_a_row_changed_since_this_worker_wrote_it_rolls_the_attempt_back_and_goes_by_the_lock(monkeypatch):
    start_chain("chain", ["a", "b", "c"])
    kept = complete_claimed()
    services.raise_event("chain", "unrelated", "early")  # Changes the row's next wake-up.
    calls = carry_on_calls(monkeypatch)

    assert complete_kept(kept) == []

    assert calls == ["as left", "locked first"]
    # Nothing of the first attempt stayed: the answer waits behind the event, history unchanged.
    queued = list(Message.objects.filter(instance_id="chain").order_by("pk").values_list("event_type", flat=True))
    assert queued == ["EventRaised", "TaskCompleted"]
    assert event_types("chain")[-1] == "TaskScheduled"
    assert services.get("chain").history_length == 6
    assert Invocation.objects.filter(status="Completed").count() == 2
    drain_all()
    assert json.loads(services.get("chain").output) == ["a", "b", "c"]


def test_a_row_purged_meanwhile_is_noticed_before_anything_is_written(monkeypatch):
    start_chain("chain", ["a", "b", "c"])
    kept = complete_claimed()
    Instance.objects.filter(pk="chain").delete()
    calls = carry_on_calls(monkeypatch)

    assert complete_kept(kept) == []

    assert calls == ["as left", "locked first"]
    assert not HistoryRow.objects.filter(instance_id="chain", event_type="TaskCompleted", task_id=1).exists()
    assert not Instance.objects.filter(pk="chain").exists()


def test_a_fan_in_still_waiting_on_calls_of_other_workers_is_carried_on_under_its_lock(monkeypatch):
    documents = [{"title": title, "text": "one two three"} for title in ("x", "y", "z")]
    services.start("word_count_report", documents, instance_id="fan")
    run_orchestrations()
    calls = carry_on_calls(monkeypatch)

    assert complete_claimed(limit=1) == []  # Tasks 1 and 2 are open still: another worker may answer.
    assert complete_claimed(limit=2) == []  # These two are all it waits on.

    assert calls == ["locked first", "as left"]
    instance = services.get("fan")
    assert (instance.runtime_status, json.loads(instance.output)["total_words"]) == ("Completed", 9)
