"""Activity retries: attempts, back-off timers, limits and non-retryable errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestrations.engine import OrchestrationStatus, RetryOptions, TaskFailedError
from orchestrations.engine.actions import CreateTimer, ScheduleActivity
from tests.orchestrations.engine.builder import START, OrchestrationRun


class PaymentDeclinedError(Exception):
    pass


def charging(options: RetryOptions):
    def orchestrator(ctx):
        try:
            receipt = yield ctx.call_activity_with_retry("Charge", options, 100)
        except TaskFailedError as error:
            return {"failed": error.details.message}
        return {"receipt": receipt}

    return orchestrator


def fail_and_fire(run: OrchestrationRun, attempt_id: int, error: BaseException | None = None):
    """Fail the attempt at ``attempt_id``, then fire the retry timer that follows it."""
    run.fail_activity(attempt_id, error or RuntimeError(f"attempt {attempt_id} failed")).run_episode()
    return run.fire_timer(attempt_id + 1).run_episode()


def test_first_attempt_is_an_ordinary_activity_call():
    run = OrchestrationRun(charging(RetryOptions(1000, 3)))

    result = run.run_episode()

    assert result.actions == [ScheduleActivity(0, "Charge", "100")]


def test_failed_attempt_schedules_a_timer_for_the_first_retry_interval():
    run = OrchestrationRun(charging(RetryOptions(first_retry_interval_in_milliseconds=1500, max_number_of_attempts=3)))
    run.run_episode()

    result = run.advance(seconds=2).fail_activity(0, RuntimeError("busy")).run_episode()

    assert result.actions == [CreateTimer(1, START + timedelta(seconds=2, milliseconds=1500))]
    assert result.completion is None


def test_retry_timer_firing_schedules_the_next_attempt_with_the_same_input():
    run = OrchestrationRun(charging(RetryOptions(1000, 3)))
    run.run_episode()

    result = fail_and_fire(run, 0)

    assert result.actions == [ScheduleActivity(2, "Charge", "100")]


def test_successful_retry_returns_its_result_to_the_orchestrator():
    run = OrchestrationRun(charging(RetryOptions(1000, 3)))
    run.run_episode()
    fail_and_fire(run, 0)

    run.complete_activity(2, "receipt-7").run_episode()

    assert run.output == {"receipt": "receipt-7"}


def test_gives_up_after_max_number_of_attempts_and_raises_the_last_failure():
    run = OrchestrationRun(charging(RetryOptions(1000, max_number_of_attempts=3)))
    run.run_episode()
    fail_and_fire(run, 0)
    fail_and_fire(run, 2)

    result = run.fail_activity(4, RuntimeError("third strike")).run_episode()

    assert result.actions == []
    assert run.output == {"failed": "third strike"}


def test_single_attempt_policy_never_retries():
    run = OrchestrationRun(charging(RetryOptions(1000, max_number_of_attempts=1)))
    run.run_episode()

    result = run.fail_activity(0, RuntimeError("once")).run_episode()

    assert result.actions == []
    assert run.output == {"failed": "once"}


def test_backoff_coefficient_multiplies_each_wait():
    options = RetryOptions(1000, max_number_of_attempts=4, backoff_coefficient=2.0)
    run = OrchestrationRun(charging(options))
    run.run_episode()

    waits = []
    for attempt_id in (0, 2, 4):
        failed_at = run.now
        timer = run.fail_activity(attempt_id, RuntimeError("busy")).run_episode().actions[0]
        waits.append(timer.fire_at - failed_at)
        run.fire_timer(attempt_id + 1).run_episode()

    assert waits == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]


def test_max_retry_interval_caps_the_wait():
    options = RetryOptions(
        1000, max_number_of_attempts=4, backoff_coefficient=3.0, max_retry_interval_in_milliseconds=5000
    )
    run = OrchestrationRun(charging(options))
    run.run_episode()
    fail_and_fire(run, 0)
    fail_and_fire(run, 2)
    failed_at = run.now

    result = run.fail_activity(4, RuntimeError("busy")).run_episode()

    assert result.actions == [CreateTimer(5, failed_at + timedelta(seconds=5))]


def test_retries_while_the_failure_comes_before_the_retry_timeout():
    # As in the Durable Task Framework, the timeout is measured to the failure: a long wait
    # after an early failure is still taken.
    options = RetryOptions(10_000, max_number_of_attempts=5, retry_timeout_in_milliseconds=5000)
    run = OrchestrationRun(charging(options))
    run.run_episode()

    result = run.advance(seconds=1).fail_activity(0, RuntimeError("busy")).run_episode()

    assert result.actions == [CreateTimer(1, START + timedelta(seconds=11))]


def test_gives_up_once_the_retry_timeout_has_passed_since_the_first_attempt():
    options = RetryOptions(1000, max_number_of_attempts=5, retry_timeout_in_milliseconds=5000)
    run = OrchestrationRun(charging(options))
    run.run_episode()
    fail_and_fire(run, 0)

    # The retry started one second in; it fails exactly when the five seconds are up.
    result = run.advance(seconds=4).fail_activity(2, RuntimeError("too late")).run_episode()

    assert result.actions == []
    assert run.output == {"failed": "too late"}


@pytest.mark.parametrize(
    "non_retryable",
    [PaymentDeclinedError, "PaymentDeclinedError", "tests.orchestrations.engine.test_retries.PaymentDeclinedError"],
    ids=["class", "short name", "qualified name"],
)
def test_non_retryable_error_type_fails_at_once(non_retryable):
    options = RetryOptions(1000, max_number_of_attempts=5, non_retryable_error_types=[non_retryable])
    run = OrchestrationRun(charging(options))
    run.run_episode()

    result = run.fail_activity(0, PaymentDeclinedError("card stolen")).run_episode()

    assert result.actions == []
    assert run.output == {"failed": "card stolen"}


def test_other_error_types_are_still_retried_when_some_are_non_retryable():
    options = RetryOptions(1000, max_number_of_attempts=5, non_retryable_error_types=[PaymentDeclinedError])
    run = OrchestrationRun(charging(options))
    run.run_episode()

    result = run.fail_activity(0, ConnectionError("reset")).run_episode()

    assert result.actions == [CreateTimer(1, START + timedelta(seconds=1))]


def test_retried_calls_in_parallel_keep_their_own_attempts():
    def orchestrator(ctx):
        options = RetryOptions(1000, 2)
        return (yield ctx.task_all([ctx.call_activity_with_retry("Charge", options, n) for n in (1, 2)]))

    run = OrchestrationRun(orchestrator)
    run.run_episode()
    timer = run.fail_activity(1, RuntimeError("busy")).complete_activity(0, "one").run_episode()
    retry = run.fire_timer(2).run_episode()

    run.complete_activity(3, "two").run_episode()

    assert timer.actions == [CreateTimer(2, START + timedelta(seconds=1))]
    assert retry.actions == [ScheduleActivity(3, "Charge", "2")]
    assert run.output == ["one", "two"]


def test_retry_attempts_replay_deterministically():
    run = OrchestrationRun(charging(RetryOptions(1000, 3)))
    run.run_episode()
    fail_and_fire(run, 0)
    run.complete_activity(2, "receipt").run_episode()

    replayed = run.replay()

    assert replayed.actions == []
    assert replayed.completion == run.last.completion


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"first_retry_interval_in_milliseconds": 0, "max_number_of_attempts": 3}, "greater than 0"),
        ({"first_retry_interval_in_milliseconds": 100, "max_number_of_attempts": 0}, "at least 1"),
        (
            {"first_retry_interval_in_milliseconds": 100, "max_number_of_attempts": 3, "backoff_coefficient": 0.5},
            "backoff_coefficient",
        ),
    ],
)
def test_invalid_retry_options_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        RetryOptions(**arguments)


def test_retry_options_of_the_wrong_type_fail_the_instance():
    def orchestrator(ctx):
        yield ctx.call_activity_with_retry("Charge", {"max_number_of_attempts": 3})

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "retry_options must be a RetryOptions, not dict" in run.failure.message
