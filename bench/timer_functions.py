"""T1's function app: twenty timers that run every second and do nothing, so that T1 measures
the scheduler, not the functions.

They are disabled (Azure's ``AzureWebJobs.<name>.Disabled``) unless T1 turns them on in the
environment of the workers it starts: the workers of W1-W4 load this module too, and twenty
timers firing in the middle of those workloads would change their figures.
"""

from __future__ import annotations

import os

from functions import FunctionApp, TimerRequest

app = FunctionApp("bench-timers")

TIMER_COUNT = 20
SCHEDULE = "* * * * * *"
TIMER_NAMES = [f"bench_timer_{number:02d}" for number in range(TIMER_COUNT)]


def enabling_environment(count: int = TIMER_COUNT) -> dict[str, str]:
    """The variables that turn on the first ``count`` timers in a worker process."""
    return {f"AzureWebJobs.{name}.Disabled": "false" for name in TIMER_NAMES[:count]}


def _declare(name: str) -> None:
    os.environ.setdefault(f"AzureWebJobs.{name}.Disabled", "true")

    def tick(timer: TimerRequest) -> None:
        return None

    app.function_name(name)(app.timer_trigger(schedule=SCHEDULE, arg_name="timer")(tick))


for _name in TIMER_NAMES:
    _declare(_name)
