"""Critical sections: lock requests, granted locks, their release, and the locking rules."""

from __future__ import annotations

import pytest

from orchestrations.engine import CriticalSection, EntityId, OrchestrationStateError, OrchestrationStatus
from orchestrations.engine import events as ev
from orchestrations.engine.actions import CallEntity, LockEntities, ScheduleActivity, SignalEntity, UnlockEntities
from orchestrations.engine.entities import held_locks
from tests.orchestrations.engine.builder import START, OrchestrationRun

ALICE = EntityId("account", "alice")
BOB = EntityId("account", "bob")
CAROL = EntityId("account", "carol")
BOTH = ("@account@alice", "@account@bob")


def locked_run(orchestrator) -> OrchestrationRun:
    """A run whose first episode asked for the locks and whose second got them."""
    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.grant_lock(0).run_episode()
    return run


def test_a_lock_request_lists_its_entities_sorted_and_without_repeats():
    def orchestrator(ctx):
        yield ctx.lock_entities(EntityId("account", "bob"), "@account@alice", EntityId("Account", "bob"))

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [LockEntities(0, BOTH)]
    [requested] = [event for event in result.history if event.event_type == ev.EventType.ENTITY_LOCK_REQUESTED]
    assert requested.details["entity_ids"] == list(BOTH)


def test_lock_entities_accepts_a_list_of_entities():
    def orchestrator(ctx):
        yield ctx.lock_entities([BOB, ALICE])

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [LockEntities(0, BOTH)]


def test_locking_no_entities_fails_the_orchestration():
    def orchestrator(ctx):
        yield ctx.lock_entities()

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "lock_entities needs at least one entity" in run.failure.message


def test_the_granted_lock_is_a_critical_section_over_the_locked_entities():
    def orchestrator(ctx):
        section = yield ctx.lock_entities(BOB, ALICE)
        return {"type": type(section).__name__, "entities": list(section.entity_ids)}

    run = locked_run(orchestrator)

    assert run.output == {"type": CriticalSection.__name__, "entities": list(BOTH)}


def test_the_orchestration_waits_for_the_lock_before_going_on():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE)):
            yield ctx.call_entity(ALICE, "get")

    run = OrchestrationRun(orchestrator)
    result = run.run_episode()

    assert result.actions == [LockEntities(0, ("@account@alice",))]
    assert run.status == OrchestrationStatus.RUNNING


def test_leaving_the_with_block_sends_the_unlock_for_every_locked_entity():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE, BOB)):
            balance = yield ctx.call_entity(ALICE, "get")
        yield ctx.call_activity("Report", balance)

    run = locked_run(orchestrator)
    assert run.last.actions == [CallEntity(1, "@account@alice", "get")]

    result = run.complete_entity_call(1, 40).run_episode()

    assert result.actions == [UnlockEntities(2, BOTH), ScheduleActivity(3, "Report", "40")]
    assert [event.event_type for event in result.history if event.task_id == 2] == [ev.EventType.ENTITY_UNLOCK_SENT]


def test_returning_from_inside_the_with_block_releases_the_locks():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE, BOB)):
            return (yield ctx.call_entity(ALICE, "get"))

    run = locked_run(orchestrator)

    result = run.complete_entity_call(1, 40).run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert result.actions == [UnlockEntities(2, BOTH)]


def test_releasing_by_hand_then_leaving_the_block_unlocks_once():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE)) as section:
            section.release()
        return "done"

    run = locked_run(orchestrator)

    assert run.last.actions == [UnlockEntities(1, ("@account@alice",))]


def test_a_replayed_critical_section_makes_no_new_calls():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE, BOB)):
            yield ctx.call_entity(ALICE, "withdraw", 10)
        return "moved"

    run = locked_run(orchestrator)
    run.complete_entity_call(1).run_episode()

    replayed = run.replay()

    assert replayed.actions == []
    assert replayed.completion.status == OrchestrationStatus.COMPLETED


def test_locking_other_entities_on_replay_is_non_deterministic():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE, BOB)):
            yield ctx.call_entity(ALICE, "get")

    def changed(ctx):
        with (yield ctx.lock_entities(ALICE, CAROL)):
            yield ctx.call_entity(ALICE, "get")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.replay(changed)

    assert result.completion.failure.error_type == "orchestrations.engine.failures.NonDeterminismError"
    assert "lock_entities('@account@alice', '@account@carol')" in result.completion.failure.message


def test_is_locked_from_the_request_until_the_block_ends():
    def orchestrator(ctx):
        seen = [ctx.is_locked]
        request = ctx.lock_entities(ALICE)
        seen.append(ctx.is_locked)
        with (yield request):
            seen.append(ctx.is_locked)
        seen.append(ctx.is_locked)
        return seen

    run = locked_run(orchestrator)

    assert run.output == [False, True, True, False]


def test_locked_entities_can_be_called_one_after_another_and_in_parallel_with_each_other():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE, BOB)):
            yield ctx.call_entity(ALICE, "get")
            yield ctx.call_entity(ALICE, "withdraw", 5)
            yield ctx.task_all([ctx.call_entity(ALICE, "get"), ctx.call_entity(BOB, "deposit", 5)])
        return "done"

    run = locked_run(orchestrator)
    run.complete_entity_call(1, 10).run_episode()
    run.complete_entity_call(2, 5).run_episode()
    assert run.last.actions == [CallEntity(3, "@account@alice", "get"), CallEntity(4, "@account@bob", "deposit", "5")]

    run.complete_entity_call(3, 5).complete_entity_call(4, 5).run_episode()

    assert run.output == "done"


def test_an_activity_may_run_inside_a_critical_section():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE)):
            approved = yield ctx.call_activity("CheckFraud", "alice")
        return approved

    run = locked_run(orchestrator)
    assert run.last.actions == [ScheduleActivity(1, "CheckFraud", '"alice"')]

    run.complete_activity(1, True).run_episode()

    assert run.output is True


def test_an_unlocked_entity_may_be_signalled_inside_a_critical_section():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE)):
            ctx.signal_entity(CAROL, "notify", "audit")
        return "done"

    run = locked_run(orchestrator)

    assert run.output == "done"
    assert run.last.actions == [
        SignalEntity(1, "@account@carol", "notify", '"audit"'),
        UnlockEntities(2, ("@account@alice",)),
    ]


def test_after_the_block_any_entity_may_be_called_again_in_parallel():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE)):
            pass
        yield ctx.task_all(
            [ctx.call_entity(ALICE, "get"), ctx.call_entity(ALICE, "get"), ctx.call_entity(CAROL, "get")]
        )

    run = locked_run(orchestrator)

    assert run.status == OrchestrationStatus.RUNNING
    assert [action.entity_id for action in run.last.actions[1:]] == [
        "@account@alice",
        "@account@alice",
        "@account@carol",
    ]


# The locking rules. Each breaks one; the error fails the orchestration unless it is caught.


def nested_lock(ctx):
    with (yield ctx.lock_entities(ALICE)):
        yield ctx.lock_entities(BOB)


def lock_while_a_request_is_pending(ctx):
    ctx.lock_entities(ALICE)
    yield ctx.lock_entities(BOB)


def sub_orchestration_inside(ctx):
    with (yield ctx.lock_entities(ALICE)):
        yield ctx.call_sub_orchestrator("Audit")


def call_unlocked_entity(ctx):
    with (yield ctx.lock_entities(ALICE, BOB)):
        yield ctx.call_entity(CAROL, "get")


def two_parallel_calls_to_one_locked_entity(ctx):
    with (yield ctx.lock_entities(ALICE, BOB)):
        yield ctx.task_all([ctx.call_entity(ALICE, "get"), ctx.call_entity(ALICE, "withdraw", 5)])


def signal_locked_entity(ctx):
    with (yield ctx.lock_entities(ALICE, BOB)):
        ctx.signal_entity(BOB, "deposit", 5)
        yield ctx.call_entity(ALICE, "get")


RULE_BREAKERS = [
    (nested_lock, "critical sections cannot be nested: release the locks held first"),
    (lock_while_a_request_is_pending, "critical sections cannot be nested: release the locks held first"),
    (sub_orchestration_inside, "a critical section cannot start sub-orchestrations"),
    (
        call_unlocked_entity,
        "inside a critical section only the locked entities can be called; @account@carol is not locked",
    ),
    (
        two_parallel_calls_to_one_locked_entity,
        "inside a critical section one entity cannot be called twice in parallel (@account@alice)",
    ),
    (signal_locked_entity, "a critical section cannot signal an entity it has locked (@account@bob)"),
]

RULE_NAMES = [orchestrator.__name__ for orchestrator, _ in RULE_BREAKERS]


def run_until_the_rule_breaks(orchestrator) -> OrchestrationRun:
    run = OrchestrationRun(orchestrator)
    run.run_episode()
    if run.status == OrchestrationStatus.RUNNING:
        run.grant_lock(0).run_episode()
    return run


@pytest.mark.parametrize(("orchestrator", "message"), RULE_BREAKERS, ids=RULE_NAMES)
def test_breaking_a_locking_rule_fails_the_orchestration_with_that_rule(orchestrator, message):
    run = run_until_the_rule_breaks(orchestrator)

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.failures.OrchestrationStateError"
    assert run.failure.message == message


@pytest.mark.parametrize(("orchestrator", "message"), RULE_BREAKERS, ids=RULE_NAMES)
def test_a_locking_rule_error_can_be_caught_by_the_orchestrator(orchestrator, message):
    def catching(ctx):
        try:
            yield from orchestrator(ctx)
        except OrchestrationStateError as error:
            return str(error)

    run = run_until_the_rule_breaks(catching)

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.output == message


def test_a_rule_broken_inside_the_block_still_releases_the_locks():
    run = run_until_the_rule_breaks(call_unlocked_entity)

    assert run.status == OrchestrationStatus.FAILED
    assert run.last.actions == [UnlockEntities(1, BOTH)]


# held_locks: what a worker must release when the orchestration ends, read from its history.


def test_held_locks_are_none_for_a_history_without_critical_sections():
    history = [ev.task_scheduled(START, 0, "Report")]

    assert held_locks(history) == ()


def test_held_locks_include_entities_requested_but_not_yet_granted():
    history = [ev.entity_lock_requested(START, 0, list(BOTH))]

    assert held_locks(history) == BOTH


def test_held_locks_are_none_once_the_unlock_was_sent():
    history = [
        ev.entity_lock_requested(START, 0, list(BOTH)),
        ev.entity_lock_granted(START, 0),
        ev.entity_unlock_sent(START, 1, list(BOTH)),
    ]

    assert held_locks(history) == ()


def test_held_locks_are_those_of_the_latest_critical_section():
    history = [
        ev.entity_lock_requested(START, 0, list(BOTH)),
        ev.entity_unlock_sent(START, 1, list(BOTH)),
        ev.entity_lock_requested(START, 2, ["@account@carol"]),
        ev.entity_lock_granted(START, 2),
    ]

    assert held_locks(history) == ("@account@carol",)


def test_held_locks_follow_an_orchestration_left_inside_its_critical_section():
    def orchestrator(ctx):
        with (yield ctx.lock_entities(ALICE, BOB)):
            yield ctx.call_entity(ALICE, "get")

    run = locked_run(orchestrator)

    assert held_locks(run.history) == BOTH
    run.complete_entity_call(1, 0).run_episode()
    assert held_locks(run.history) == ()
