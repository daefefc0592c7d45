"""Fan-out/fan-in with task_all, and the first-to-finish race with task_any."""

from __future__ import annotations

from datetime import timedelta

from orchestrations.engine import OrchestrationStatus, TaskFailedError
from orchestrations.engine.actions import CreateTimer, ScheduleActivity
from tests.orchestrations.engine.builder import START, OrchestrationRun


def resize_all(ctx):
    images = ctx.get_input()
    sizes = yield ctx.task_all([ctx.call_activity("Resize", image) for image in images])
    return sum(sizes)


def test_task_all_schedules_every_call_in_one_episode():
    run = OrchestrationRun(resize_all, ["a.png", "b.png", "c.png"])

    result = run.run_episode()

    assert result.actions == [
        ScheduleActivity(0, "Resize", '"a.png"'),
        ScheduleActivity(1, "Resize", '"b.png"'),
        ScheduleActivity(2, "Resize", '"c.png"'),
    ]


def test_task_all_waits_for_every_call_before_resuming():
    run = OrchestrationRun(resize_all, ["a.png", "b.png", "c.png"])
    run.run_episode()

    result = run.complete_activity(0, 10).complete_activity(2, 30).run_episode()

    assert result.completion is None
    assert result.actions == []


def test_task_all_returns_results_in_call_order_whatever_the_completion_order():
    def orchestrator(ctx):
        return (yield ctx.task_all([ctx.call_activity("Resize", n) for n in range(3)]))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.complete_activity(2, "third").run_episode()
    run.complete_activity(0, "first").run_episode()

    run.complete_activity(1, "second").run_episode()

    assert run.output == ["first", "second", "third"]


def test_task_all_fails_as_soon_as_one_call_fails_without_waiting_for_the_others():
    def orchestrator(ctx):
        try:
            yield ctx.task_all([ctx.call_activity("Resize", n) for n in range(3)])
        except TaskFailedError as error:
            return f"gave up: {error.details.message}"

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fail_activity(1, OSError("disk full")).run_episode()

    assert run.output == "gave up: disk full"


def test_task_all_of_no_tasks_completes_at_once_with_an_empty_list():
    run = OrchestrationRun(resize_all, [])

    run.run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.output == 0


def test_task_all_of_tasks_already_completed_resumes_at_once_with_results_in_order():
    def orchestrator(ctx):
        yield ctx.call_activity("Prepare")
        return (yield ctx.task_all([ctx.wait_for_external_event(name) for name in ("First", "Second")]))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.raise_event("Second", 2).raise_event("First", 1).run_episode()

    run.complete_activity(0).run_episode()

    assert run.output == [1, 2]


def test_task_all_mixes_activities_timers_and_external_events():
    def orchestrator(ctx):
        results = yield ctx.task_all(
            [
                ctx.call_activity("Reserve"),
                ctx.create_timer(timedelta(minutes=1)),
                ctx.wait_for_external_event("Approved"),
            ]
        )
        return results

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.complete_activity(0, "seat 12A").raise_event("Approved", True).run_episode()
    assert run.status == OrchestrationStatus.RUNNING

    run.fire_timer(1).run_episode()

    assert run.output == ["seat 12A", None, True]


def test_task_any_returns_the_task_that_finished_first():
    def orchestrator(ctx):
        fast = ctx.call_activity("QueryMirror", "eu")
        slow = ctx.call_activity("QueryMirror", "us")
        winner = yield ctx.task_any([fast, slow])
        return {"winner_is_us": winner is slow, "result": winner.result}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_activity(1, "from us").run_episode()

    assert run.output == {"winner_is_us": True, "result": "from us"}


def test_task_any_completes_with_the_earliest_event_when_two_arrive_together():
    def orchestrator(ctx):
        tasks = [ctx.call_activity("QueryMirror", n) for n in range(2)]
        winner = yield ctx.task_any(tasks)
        return tasks.index(winner)

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.complete_activity(1, "b").complete_activity(0, "a").run_episode()

    assert run.output == 1


def test_task_any_hands_back_a_failed_winner_without_raising():
    def orchestrator(ctx):
        winner = yield ctx.task_any([ctx.call_activity("A"), ctx.call_activity("B")])
        return {"faulted": winner.is_faulted, "message": winner.exception.details.message}

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    run.fail_activity(0, ValueError("A broke")).run_episode()

    assert run.output == {"faulted": True, "message": "A broke"}


def test_task_any_of_an_already_completed_task_resumes_at_once():
    def orchestrator(ctx):
        approval = ctx.wait_for_external_event("Approved")
        timeout = ctx.create_timer(timedelta(hours=1))
        winner = yield ctx.task_any([approval, timeout])
        return winner is approval

    run = OrchestrationRun(orchestrator)
    run.raise_event("Approved")

    result = run.run_episode()

    assert result.actions == [CreateTimer(0, START + timedelta(hours=1))]
    assert run.output is True


def test_task_any_then_task_all_of_the_losers_collects_the_rest():
    def orchestrator(ctx):
        tasks = [ctx.call_activity("Shard", n) for n in range(3)]
        first = yield ctx.task_any(tasks)
        rest = yield ctx.task_all([task for task in tasks if task is not first])
        return [first.result, *rest]

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.complete_activity(1, "b").run_episode()

    run.complete_activity(0, "a").complete_activity(2, "c").run_episode()

    assert run.output == ["b", "a", "c"]


def test_task_all_over_the_same_task_twice_and_tasks_already_done_waits_for_each_place():
    def orchestrator(ctx):
        first = ctx.call_activity("Resize", 0)
        second = ctx.call_activity("Resize", 1)
        done = yield first
        both = yield ctx.task_all([first, second, second])
        return [done, both]

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    # Waiting on the second call, in two places of the list.
    assert run.complete_activity(0, "a").run_episode().completion is None

    run.complete_activity(1, "b").run_episode()

    assert run.output == ["a", ["a", "b", "b"]]


def test_a_large_fan_in_completes_once_with_every_result_in_order():
    def orchestrator(ctx):
        return (yield ctx.task_all([ctx.call_activity("Resize", n) for n in range(300)]))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    for task_id in reversed(range(1, 300)):
        run.complete_activity(task_id, task_id)
    assert run.run_episode().completion is None

    run.complete_activity(0, 0).run_episode()

    assert run.output == list(range(300))
