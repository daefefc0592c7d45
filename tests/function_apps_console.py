"""Functions of each kind for the functions console's tests: its pages, runs by hand and
retention (tests/consoleapp/test_function_console.py, tests/functions/test_run_by_hand.py)."""

from __future__ import annotations

import logging

from functions import FunctionApp, Out
from functions.bindings import HttpRequest, HttpResponse, QueueMessage, TimerRequest

app = FunctionApp("tests-console")
logger = logging.getLogger("tests.console")


@app.route(route="console-hello", methods=["GET"], auth_level="anonymous")
def console_hello(req: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


# Once a year, on 1 January at midnight: never due while the tests run.
@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *")
def console_yearly(timer: TimerRequest) -> dict:
    logger.warning("ran with past_due=%s", timer.past_due)
    return {"past_due": timer.past_due}


@app.queue_trigger(arg_name="message", queue_name="console-in")
@app.queue_output(arg_name="out", queue_name="console-out")
def console_forward(message: QueueMessage, out: Out[str]) -> None:
    logger.warning("forwarding %s", message.get_body().decode())
    out.set([message.get_body().decode(), "second"])


@app.queue_trigger(arg_name="message", queue_name="console-broken")
def console_broken(message: QueueMessage) -> None:
    raise RuntimeError(f"cannot take {message.get_body().decode()}")


@app.activity
def console_double(value):
    return value * 2
