"""new_uuid, current_utc_datetime and is_replaying: the same answers on every replay."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from tests.orchestrations.engine.builder import START, OrchestrationRun


def uuids_around_a_call(ctx):
    before = ctx.new_uuid()
    yield ctx.call_activity("Use", before)
    after = ctx.new_uuid()
    return [before, after]


def test_new_uuid_returns_a_uuid_string():
    run = OrchestrationRun(uuids_around_a_call)
    run.run_episode()
    run.complete_activity(0).run_episode()

    assert all(uuid.UUID(value) for value in run.output)


def test_new_uuid_gives_the_same_value_when_the_code_is_replayed():
    run = OrchestrationRun(uuids_around_a_call)
    first = run.run_episode()

    run.advance(minutes=1).complete_activity(0).run_episode()

    assert run.output[0] == json.loads(first.actions[0].input)


def test_new_uuid_values_are_distinct_within_an_instance():
    def orchestrator(ctx):
        return [ctx.new_uuid() for _ in range(5)]

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert len(set(run.output)) == 5


def test_new_uuid_values_are_distinct_across_episodes_at_the_same_time():
    run = OrchestrationRun(uuids_around_a_call)
    run.run_episode()

    run.complete_activity(0).run_episode()

    before, after = run.output
    assert before != after


def test_new_uuid_values_differ_between_instances():
    def orchestrator(ctx):
        return ctx.new_uuid()

    first = OrchestrationRun(orchestrator, instance_id="a")
    second = OrchestrationRun(orchestrator, instance_id="b")
    first.run_episode()
    second.run_episode()

    assert first.output != second.output


def test_full_replay_gives_the_same_uuids():
    run = OrchestrationRun(uuids_around_a_call)
    run.run_episode()
    run.complete_activity(0).run_episode()

    replayed = run.replay()

    assert replayed.completion.output == run.last.completion.output


def test_current_utc_datetime_is_the_time_each_episode_started_on_every_replay():
    def orchestrator(ctx):
        times = [ctx.current_utc_datetime.isoformat()]
        yield ctx.call_activity("Step")
        times.append(ctx.current_utc_datetime.isoformat())
        yield ctx.call_activity("Step")
        times.append(ctx.current_utc_datetime.isoformat())
        return times

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.advance(minutes=10).complete_activity(0).run_episode()

    run.advance(hours=1).complete_activity(1).run_episode()

    assert run.output == [
        START.isoformat(),
        (START + timedelta(minutes=10)).isoformat(),
        (START + timedelta(hours=1, minutes=10)).isoformat(),
    ]


def test_current_utc_datetime_is_timezone_aware_utc():
    def orchestrator(ctx):
        return ctx.current_utc_datetime.utcoffset().total_seconds()

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.output == 0


def test_is_replaying_is_true_only_while_the_code_replays_history():
    log = []

    def orchestrator(ctx):
        log.append(("start", ctx.is_replaying))
        yield ctx.call_activity("Step")
        log.append(("after first step", ctx.is_replaying))
        yield ctx.call_activity("Step")
        log.append(("after second step", ctx.is_replaying))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    run.complete_activity(0).run_episode()
    log.clear()

    run.complete_activity(1).run_episode()

    assert log == [("start", True), ("after first step", True), ("after second step", False)]


def test_is_replaying_is_false_in_the_first_episode():
    def orchestrator(ctx):
        return ctx.is_replaying

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.output is False


def test_instance_id_name_and_version_come_from_the_execution():
    def orchestrator(ctx):
        return [ctx.instance_id, ctx.function_name, ctx.version]

    run = OrchestrationRun(orchestrator, instance_id="invoice-3", name="Invoice", version="1.4")
    run.run_episode()

    assert run.output == ["invoice-3", "Invoice", "1.4"]
