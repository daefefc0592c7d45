"""A function app with a malformed schedule: importing it must fail, naming the function.
Only the bad-schedule test loads it, in a process of its own."""

from __future__ import annotations

from functions import FunctionApp

app = FunctionApp("tests-bad-timer")


@app.timer_trigger(schedule="61 * * * *", arg_name="timer")
def nightly_cleanup(timer) -> None: ...
