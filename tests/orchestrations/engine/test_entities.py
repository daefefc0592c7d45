"""Entity calls and signals from an orchestrator: actions, answers, replay and divergence."""

from __future__ import annotations

from datetime import timedelta

from orchestrations.engine import EntityId, OrchestrationStatus, TaskFailedError
from orchestrations.engine.actions import CallEntity, ScheduleActivity, SignalEntity
from orchestrations.engine.events import EventType
from tests.orchestrations.engine.builder import START, OrchestrationRun

COUNTER = EntityId("counter", "c1")


def test_call_entity_schedules_a_call_with_the_entity_operation_and_input():
    def orchestrator(ctx):
        yield ctx.call_entity(COUNTER, "add", 5)

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [CallEntity(0, "@counter@c1", "add", "5")]
    [called] = [event for event in result.history if event.event_type == EventType.ENTITY_OPERATION_CALLED]
    assert (called.task_id, called.name, called.data, called.details["entity_id"]) == (0, "add", "5", "@counter@c1")


def test_an_entity_id_string_names_the_same_entity_with_its_name_lowercased():
    def orchestrator(ctx):
        yield ctx.call_entity("@Counter@C1", "get")

    result = OrchestrationRun(orchestrator).run_episode()

    # Names are case-insensitive, keys are not.
    assert result.actions == [CallEntity(0, "@counter@C1", "get")]


def test_the_entity_answer_is_the_value_of_the_call():
    def orchestrator(ctx):
        value = yield ctx.call_entity(COUNTER, "get")
        return {"counter": value}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_entity_call(0, 15).run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.output == {"counter": 15}


def test_an_answered_call_is_matched_on_replay_and_not_made_again():
    def orchestrator(ctx):
        first = yield ctx.call_entity(COUNTER, "get")
        second = yield ctx.call_entity(COUNTER, "add", first)
        return second

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.complete_entity_call(0, 2).run_episode()

    assert run.last.actions == [CallEntity(1, "@counter@c1", "add", "2")]
    assert run.replay().actions == []
    assert run.replay().completion is None


def test_entity_call_failure_raises_task_failed_error_with_the_entity_error():
    def orchestrator(ctx):
        try:
            yield ctx.call_entity(COUNTER, "divide", 0)
        except TaskFailedError as error:
            return {"type": error.details.error_type, "message": str(error)}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fail_entity_call(0, ZeroDivisionError("division by zero")).run_episode()

    assert run.output["type"] == "ZeroDivisionError"
    assert "'divide' on @counter@c1" in run.output["message"]
    assert "division by zero" in run.output["message"]


def test_an_uncaught_entity_call_failure_fails_the_orchestration():
    def orchestrator(ctx):
        yield ctx.call_entity(COUNTER, "divide", 0)

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fail_entity_call(0, ZeroDivisionError("division by zero")).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.failures.TaskFailedError"
    assert "division by zero" in run.failure.message


def test_two_calls_to_one_entity_outside_a_critical_section_may_run_in_parallel():
    def orchestrator(ctx):
        return (yield ctx.task_all([ctx.call_entity(COUNTER, "add", 1), ctx.call_entity(COUNTER, "get")]))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    assert [action.operation for action in run.last.actions] == ["add", "get"]

    run.complete_entity_call(1, 1).complete_entity_call(0, None).run_episode()

    assert run.output == [None, 1]


def test_signal_entity_does_not_wait_for_the_entity():
    def orchestrator(ctx):
        ctx.signal_entity(COUNTER, "add", 5)
        return "sent"

    run = OrchestrationRun(orchestrator)
    result = run.run_episode()

    assert result.actions == [SignalEntity(0, "@counter@c1", "add", "5")]
    assert run.status == OrchestrationStatus.COMPLETED
    assert [event.event_type for event in result.history][-2:] == [
        EventType.ENTITY_OPERATION_SIGNALED,
        EventType.EXECUTION_COMPLETED,
    ]


def test_signals_are_numbered_in_call_order_among_other_calls():
    def orchestrator(ctx):
        ctx.signal_entity(COUNTER, "add", 1)
        yield ctx.call_activity("Audit")
        ctx.signal_entity(COUNTER, "add", 2)

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [SignalEntity(0, "@counter@c1", "add", "1"), ScheduleActivity(1, "Audit")]


def test_a_replayed_signal_is_matched_by_its_history_and_not_sent_again():
    def orchestrator(ctx):
        ctx.signal_entity(COUNTER, "add", 1)
        yield ctx.call_activity("Audit")
        ctx.signal_entity(COUNTER, "add", 2)

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(1).run_episode()

    assert result.actions == [SignalEntity(2, "@counter@c1", "add", "2")]


def test_a_scheduled_signal_carries_its_time_into_the_action_and_history():
    def orchestrator(ctx):
        ctx.signal_entity(COUNTER, "reset", scheduled_time=ctx.current_utc_datetime + timedelta(hours=1))
        return "scheduled"

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [SignalEntity(0, "@counter@c1", "reset", None, START + timedelta(hours=1))]
    [signaled] = [event for event in result.history if event.event_type == EventType.ENTITY_OPERATION_SIGNALED]
    assert signaled.details["scheduled_time"] == (START + timedelta(hours=1)).isoformat()


def test_calling_another_entity_on_replay_is_non_deterministic():
    def orchestrator(ctx):
        yield ctx.call_entity(COUNTER, "get")

    def changed(ctx):
        yield ctx.call_entity(EntityId("counter", "c2"), "get")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.replay(changed)

    assert result.completion.status == OrchestrationStatus.FAILED
    assert result.completion.failure.error_type == "orchestrations.engine.failures.NonDeterminismError"
    assert "call_entity('@counter@c1', 'get')" in result.completion.failure.message
    assert "call_entity('@counter@c2', 'get')" in result.completion.failure.message
    assert result.actions == []


def test_calling_another_operation_on_replay_is_non_deterministic():
    def orchestrator(ctx):
        yield ctx.call_entity(COUNTER, "get")

    def changed(ctx):
        yield ctx.call_entity(COUNTER, "reset")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.replay(changed)

    assert result.completion.failure.error_type == "orchestrations.engine.failures.NonDeterminismError"
    assert "call_entity('@counter@c1', 'reset')" in result.completion.failure.message


def test_signalling_another_entity_on_replay_is_non_deterministic():
    def orchestrator(ctx):
        ctx.signal_entity(COUNTER, "add", 1)
        yield ctx.call_activity("Audit")

    def changed(ctx):
        ctx.signal_entity(EntityId("counter", "c9"), "add", 1)
        yield ctx.call_activity("Audit")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.replay(changed)

    assert result.completion.failure.error_type == "orchestrations.engine.failures.NonDeterminismError"
    assert "signal_entity('@counter@c9', 'add')" in result.completion.failure.message


def test_replacing_a_call_with_a_signal_on_replay_is_non_deterministic():
    def orchestrator(ctx):
        yield ctx.call_entity(COUNTER, "add", 1)

    def changed(ctx):
        ctx.signal_entity(COUNTER, "add", 1)
        yield ctx.call_activity("Audit")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.replay(changed)

    assert result.completion.failure.error_type == "orchestrations.engine.failures.NonDeterminismError"


def test_a_malformed_entity_id_fails_the_orchestration():
    def orchestrator(ctx):
        yield ctx.call_entity("counter", "get")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.entities.InvalidEntityIdError"
    assert "'counter' is not an entity id" in run.failure.message


def test_an_empty_operation_name_fails_the_orchestration():
    def orchestrator(ctx):
        ctx.signal_entity(COUNTER, "")
        yield ctx.call_activity("Audit")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "operation name must be a non-empty string" in run.failure.message
    assert run.last.actions == []


def test_an_operation_input_that_is_not_json_fails_the_orchestration():
    def orchestrator(ctx):
        yield ctx.call_entity(COUNTER, "add", {1, 2})

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert "the input of @counter@c1.add" in run.failure.message
