"""send_event: raising an event on another instance from an orchestrator."""

from __future__ import annotations

from orchestrations.engine import OrchestrationStatus
from orchestrations.engine.actions import ScheduleActivity, SendEvent
from tests.orchestrations.engine.builder import OrchestrationRun


def notify_and_finish(ctx):
    ctx.send_event("checkout-9", "PaymentReceived", {"amount": 30})
    return "sent"


def test_send_event_becomes_an_action_with_the_target_name_and_payload():
    result = OrchestrationRun(notify_and_finish).run_episode()

    assert result.actions == [SendEvent(0, "checkout-9", "PaymentReceived", '{"amount":30}')]


def test_send_event_needs_no_yield_and_the_orchestrator_may_finish_in_the_same_episode():
    run = OrchestrationRun(notify_and_finish)

    run.run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.output == "sent"


def test_send_event_takes_a_sequence_number_like_any_durable_call():
    def orchestrator(ctx):
        ctx.send_event("checkout-9", "Started")
        yield ctx.call_activity("Work")

    result = OrchestrationRun(orchestrator).run_episode()

    assert result.actions == [SendEvent(0, "checkout-9", "Started"), ScheduleActivity(1, "Work")]


def test_sent_event_is_not_sent_again_on_replay():
    def orchestrator(ctx):
        ctx.send_event("checkout-9", "Started")
        yield ctx.call_activity("Work")
        ctx.send_event("checkout-9", "Finished")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(1).run_episode()

    assert result.actions == [SendEvent(2, "checkout-9", "Finished")]


def test_send_event_to_an_invalid_instance_id_fails_the_instance():
    def orchestrator(ctx):
        ctx.send_event("@entity", "Ping")
        yield ctx.call_activity("Work")

    run = OrchestrationRun(orchestrator)
    result = run.run_episode()

    assert result.actions == []
    assert run.status == OrchestrationStatus.FAILED
    assert "may not start with '@'" in run.failure.message


def test_send_event_with_a_non_serializable_payload_fails_the_instance():
    def orchestrator(ctx):
        ctx.send_event("checkout-9", "Ping", {1, 2})
        yield ctx.call_activity("Work")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert run.failure.message.startswith("the event data is not JSON-serializable")


def test_send_event_just_before_returning_replays_without_a_non_determinism_error():
    def orchestrator(ctx):
        total = yield ctx.call_activity("Work")
        ctx.send_event("checkout-9", "Done", total)
        return total

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.complete_activity(0, 5).run_episode()

    replayed = run.replay()

    assert replayed.actions == []
    assert replayed.completion.status == OrchestrationStatus.COMPLETED
    assert replayed.completion.output == "5"
