"""Custom status: what an orchestrator reports about its progress."""

from __future__ import annotations

from orchestrations.engine import OrchestrationStatus
from tests.orchestrations.engine.builder import OrchestrationRun


def staged(ctx):
    ctx.set_custom_status({"stage": "reserving"})
    yield ctx.call_activity("Reserve")
    ctx.set_custom_status({"stage": "charging"})
    yield ctx.call_activity("Charge")
    return "done"


def test_custom_status_is_none_until_set():
    def orchestrator(ctx):
        yield ctx.call_activity("Work")

    run = OrchestrationRun(orchestrator)

    result = run.run_episode()

    assert result.custom_status is None


def test_custom_status_is_returned_as_json():
    run = OrchestrationRun(staged)

    result = run.run_episode()

    assert result.custom_status == '{"stage":"reserving"}'


def test_latest_custom_status_wins():
    run = OrchestrationRun(staged)
    run.run_episode()

    run.complete_activity(0).run_episode()

    assert run.custom_status == {"stage": "charging"}


def test_custom_status_survives_an_episode_that_does_not_set_it():
    def orchestrator(ctx):
        ctx.set_custom_status("waiting for approval")
        yield ctx.wait_for_external_event("Approval")
        yield ctx.call_activity("Ship")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.raise_event("Approval").run_episode()

    assert run.custom_status == "waiting for approval"


def test_custom_status_is_kept_when_the_orchestration_completes():
    run = OrchestrationRun(staged)
    run.run_episode()
    run.complete_activity(0).run_episode()

    run.complete_activity(1).run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.custom_status == {"stage": "charging"}


def test_custom_status_can_be_cleared():
    def orchestrator(ctx):
        ctx.set_custom_status("busy")
        yield ctx.call_activity("Work")
        ctx.set_custom_status(None)

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(0).run_episode()

    assert result.custom_status is None


def test_non_serializable_custom_status_fails_the_instance():
    def orchestrator(ctx):
        ctx.set_custom_status({"started": object()})
        yield ctx.call_activity("Work")

    run = OrchestrationRun(orchestrator)
    result = run.run_episode()

    assert result.actions == []
    assert run.status == OrchestrationStatus.FAILED
    assert run.failure.message.startswith("the custom status is not JSON-serializable")
