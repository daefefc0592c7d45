"""External events: waiting, buffering, ordering and name matching."""

from __future__ import annotations

from orchestrations.engine import OrchestrationStatus
from tests.orchestrations.engine.builder import OrchestrationRun


def wait_for_approval(ctx):
    decision = yield ctx.wait_for_external_event("Approval")
    return decision


def test_waiting_for_an_event_schedules_nothing():
    run = OrchestrationRun(wait_for_approval)

    result = run.run_episode()

    assert result.actions == []
    assert result.completion is None


def test_raised_event_resumes_the_orchestrator_with_its_payload():
    run = OrchestrationRun(wait_for_approval)
    run.run_episode()

    run.raise_event("Approval", {"approved": True, "by": "ops"}).run_episode()

    assert run.output == {"approved": True, "by": "ops"}


def test_event_without_payload_yields_none():
    def orchestrator(ctx):
        return {"payload": (yield ctx.wait_for_external_event("Ping"))}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.raise_event("Ping").run_episode()

    assert run.output == {"payload": None}


def test_event_raised_before_the_wait_is_buffered_until_the_orchestrator_asks():
    def orchestrator(ctx):
        yield ctx.call_activity("Prepare")
        return (yield ctx.wait_for_external_event("Approval"))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    early = run.raise_event("Approval", "early yes").run_episode()

    run.complete_activity(0).run_episode()

    assert early.completion is None
    assert run.output == "early yes"


def test_event_raised_with_the_start_is_delivered_to_the_first_wait():
    run = OrchestrationRun(wait_for_approval)
    run.raise_event("Approval", "at once")

    run.run_episode()

    assert run.output == "at once"


def test_buffered_events_of_one_name_are_delivered_in_the_order_raised():
    def orchestrator(ctx):
        yield ctx.call_activity("Prepare")
        first = yield ctx.wait_for_external_event("Item")
        second = yield ctx.wait_for_external_event("Item")
        third = yield ctx.wait_for_external_event("Item")
        return [first, second, third]

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.raise_event("Item", 1).run_episode()
    run.raise_event("Item", 2).raise_event("Item", 3).run_episode()

    run.complete_activity(0).run_episode()

    assert run.output == [1, 2, 3]


def test_several_waiters_on_one_name_each_take_one_event_in_wait_order():
    def orchestrator(ctx):
        first = ctx.wait_for_external_event("Vote")
        second = ctx.wait_for_external_event("Vote")
        return (yield ctx.task_all([first, second]))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    partial = run.raise_event("Vote", "alice").run_episode()

    run.raise_event("Vote", "bob").run_episode()

    assert partial.completion is None
    assert run.output == ["alice", "bob"]


def test_event_names_match_case_insensitively():
    run = OrchestrationRun(wait_for_approval)
    run.run_episode()

    run.raise_event("APPROVAL", "shouted").run_episode()

    assert run.output == "shouted"


def test_buffered_event_names_match_case_insensitively():
    def orchestrator(ctx):
        yield ctx.call_activity("Prepare")
        return (yield ctx.wait_for_external_event("approval"))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.raise_event("Approval", "buffered").run_episode()

    run.complete_activity(0).run_episode()

    assert run.output == "buffered"


def test_event_of_another_name_does_not_resume_the_wait():
    run = OrchestrationRun(wait_for_approval)
    run.run_episode()

    result = run.raise_event("Rejection", "no").run_episode()

    assert result.completion is None


def test_event_of_another_name_stays_buffered_for_its_own_wait():
    def orchestrator(ctx):
        approval = yield ctx.wait_for_external_event("Approval")
        comment = yield ctx.wait_for_external_event("Comment")
        return [approval, comment]

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.raise_event("Comment", "looks fine").run_episode()

    run.raise_event("Approval", True).run_episode()

    assert run.output == [True, "looks fine"]


def test_events_raised_after_completion_are_not_consumed():
    run = OrchestrationRun(wait_for_approval)
    run.run_episode()

    result = run.raise_event("Approval", 1).raise_event("Approval", 2).run_episode()

    assert run.output == 1
    assert [event.event_type for event in result.history] == [
        "OrchestratorStarted",
        "EventRaised",
        "ExecutionCompleted",
    ]


def test_empty_event_name_fails_the_instance():
    def orchestrator(ctx):
        yield ctx.wait_for_external_event("")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "event name must be a non-empty string" in run.failure.message
