"""Timer functions for the timer tests (worker processes import them through
tests/function_apps.py).

They are disabled unless a test turns them on (Azure's ``AzureWebJobs.<name>.Disabled``, as
the samples' timer is): a one-second timer left on would add runs to every other test's
workers. A test enables one with ``enable(monkeypatch, name)`` before it starts its workers,
which inherit the environment.
"""

from __future__ import annotations

import logging
import os

from functions import FunctionApp, TimerRequest

app = FunctionApp("tests-timers")
logger = logging.getLogger(__name__)

EVERY_SECOND = "timers_every_second"
ON_STARTUP = "timers_on_startup"
WITH_OUTPUT = "timers_with_output"
FAILING = "timers_failing"
LIMITED = "timers_limited"
#: Where timers_with_output puts its message.
OUTPUT_QUEUE = "timers-output"

for _name in (EVERY_SECOND, ON_STARTUP, WITH_OUTPUT, FAILING, LIMITED):
    os.environ.setdefault(f"AzureWebJobs.{_name}.Disabled", "true")


def enable(monkeypatch, *names: str) -> dict[str, str]:
    """Turn these timers on in this process and in worker processes started after; the
    variables, for a worker process's environment."""
    variables = {f"AzureWebJobs.{name}.Disabled": "false" for name in names}
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    return variables


@app.timer_trigger(schedule="* * * * * *", arg_name="timer")
def timers_every_second(timer: TimerRequest) -> None:
    logger.info("tick for %s (past due: %s)", timer.scheduled_at, timer.past_due)


# Once a year: in a test it runs only when a worker starts or an operator asks.
@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True)
def timers_on_startup(timer: TimerRequest) -> str:
    return "started"


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer")
@app.queue_output(arg_name="out", queue_name=OUTPUT_QUEUE)
def timers_with_output(timer: TimerRequest, out) -> None:
    out.set({"scheduled_at": timer.scheduled_at.isoformat(), "past_due": timer.past_due})


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer")
def timers_failing(timer: TimerRequest) -> None:
    raise RuntimeError("the timer failed on purpose")


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", max_concurrency=1)
def timers_limited(timer: TimerRequest) -> list[str]:
    """Returns who holds its one slot while it runs."""
    from functions.models import ConcurrencySlot

    return list(
        ConcurrencySlot.objects.filter(function_name=LIMITED).exclude(holder="").values_list("holder", flat=True)
    )
