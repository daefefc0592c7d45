"""Edge cases a review of the worker found: suspension, stale answers, child ids, retries."""

from __future__ import annotations

import pytest

from orchestrations import services
from orchestrations.models import HistoryRow, Instance, WorkItem
from orchestrations.store import checkpoint
from orchestrations.store.claims import claim_instances
from orchestrations.store.wakeups import ACTIVITIES, ENTITIES, ORCHESTRATIONS
from orchestrations.worker import episodes
from orchestrations.worker.episodes import MAX_MESSAGES_PER_EPISODE, plan_episodes, run_claimed
from orchestrations.worker.loop import process_batch

pytestmark = pytest.mark.django_db


def drain(rounds: int = 30) -> int:
    """Run everything ready, but give up after ``rounds`` (a stuck instance must not hang the test)."""
    total = 0
    for _ in range(rounds):
        done = sum(process_batch(queue) for queue in (ORCHESTRATIONS, ACTIVITIES, ENTITIES))
        total += done
        if not done:
            break
    return total


def sequences(instance_id: str) -> list[int]:
    return list(
        HistoryRow.objects.filter(instance_id=instance_id).order_by("sequence").values_list("sequence", flat=True)
    )


def test_a_resume_behind_a_full_inbox_is_still_read():
    services.start("wait_for_approval", instance_id="busy")
    drain()
    services.suspend("busy")
    drain()
    for number in range(MAX_MESSAGES_PER_EPISODE):
        services.raise_event("busy", "noise", number)
    services.resume("busy")
    services.raise_event("busy", "approval", "yes")

    drain()

    instance = services.get("busy")
    assert (instance.runtime_status, instance.output) == ("Completed", '"yes"')


def test_events_around_a_resume_reach_the_orchestrator_in_the_order_raised():
    services.start("wait_for_event_twice", instance_id="ordered")
    drain()
    services.suspend("ordered")
    drain()
    services.raise_event("ordered", "e", "first")
    services.resume("ordered")
    services.raise_event("ordered", "e", "second")

    drain()

    assert services.get("ordered").output == '["first","second"]'


def test_a_suspend_that_arrives_with_a_continue_as_new_suspends_the_next_execution():
    services.start("continue_on_event", 0, instance_id="cycling")
    drain()
    services.raise_event("cycling", "next", "again")
    services.suspend("cycling")

    drain()

    assert services.get("cycling").runtime_status == "Suspended"


def test_a_child_answer_meant_for_an_earlier_execution_is_dropped():
    services.start("child_or_go_then_continue", instance_id="racer")
    drain()
    services.raise_event("racer", "go")
    for _ in range(5):
        process_batch(ORCHESTRATIONS)  # Generation 1 schedules its activity; it does not run yet.
    assert WorkItem.objects.filter(instance_id="racer").exists()
    services.raise_event("racing-child", "approval", "from the old child")

    drain()

    assert services.get("racer").output == '"from the activity"'


def test_two_starts_of_one_child_id_in_an_episode_fail_the_second_call():
    services.start("same_child_twice", instance_id="twins")
    drain()

    assert Instance.objects.filter(pk="only-child").count() == 1
    assert HistoryRow.objects.filter(instance_id="only-child", event_type="ExecutionStarted").count() == 1
    parent = services.get("twins")
    assert parent.runtime_status == "Failed"
    assert "already exists and is not finished" in parent.failure["message"]


def test_a_child_id_taken_while_the_parent_was_planning_is_not_replaced():
    services.start("named_child", instance_id="planner")
    claimed = claim_instances("worker-a", 10)
    plans = plan_episodes(claimed, "worker-a")
    services.start("wait_for_approval", "from a client", instance_id="shared-child")

    episodes.commit_episodes(plans, "worker-a")
    drain()

    child = Instance.objects.get(pk="shared-child")
    assert (child.input, child.parent_instance_id) == ('"from a client"', None)
    assert services.get("planner").runtime_status == "Failed"


def test_a_batch_that_fails_late_is_planned_again_and_numbered_without_gaps(monkeypatch):
    services.start("wait_for_approval", instance_id="first")
    services.start("repeat_text", 3, instance_id="second")
    real_run_statements = checkpoint.run_statements
    calls = []

    def fail_the_first_write(statements):
        # After the approvals and deliveries, at the history and instance rows.
        calls.append(statements)
        if len(calls) == 1:
            raise RuntimeError("the database went away mid-checkpoint")
        return real_run_statements(statements)

    monkeypatch.setattr(checkpoint, "run_statements", fail_the_first_write)
    run_claimed(claim_instances("worker-a", 10), "worker-a")
    monkeypatch.setattr(checkpoint, "run_statements", real_run_statements)
    assert len(calls) == 3  # The batch, then each episode again on its own.
    services.raise_event("first", "approval", "ok")
    drain()

    for instance_id in ("first", "second"):
        instance = services.get(instance_id)
        assert instance.runtime_status == "Completed"
        assert sequences(instance_id) == list(range(instance.history_length))


def test_rewinding_a_parent_whose_child_was_terminated_fails_it_again_instead_of_hanging():
    services.start("named_child", instance_id="orphan-parent")
    drain()
    services.terminate("shared-child", "stop")
    drain()
    assert services.get("orphan-parent").runtime_status == "Failed"

    services.rewind("orphan-parent", "try again")
    drain()

    parent = services.get("orphan-parent")
    assert parent.runtime_status == "Failed"
    assert "ended Terminated" in parent.failure["message"]
