"""Function apps used by the tests. Worker processes import them too (PERDURA_FUNCTION_APPS)."""

from __future__ import annotations

from functions import FunctionApp

app = FunctionApp("tests")


@app.activity
def echo(value):
    return value


@app.activity
def fail(message: str):
    raise ValueError(message)


@app.activity
def unserializable(_):
    return {1, 2, 3}


@app.orchestrator
def echo_orchestrator(ctx):
    return (yield ctx.call_activity("echo", ctx.get_input()))


@app.orchestrator
def failing_orchestrator(ctx):
    yield ctx.call_activity("fail", ctx.get_input() or "boom")


@app.orchestrator
def wait_for_approval(ctx):
    return (yield ctx.wait_for_external_event("approval"))


# Used by the storage, services and worker tests (tests/orchestrations).


@app.activity
def fail_first_time(key: str) -> str:
    """A transient fault: fails on its first run for ``key`` and succeeds on every later one.
    The Execution table remembers the failed run, so worker processes agree on it."""
    from functions.models import Execution
    from orchestrations.engine.serialization import dumps

    failed_before = Execution.objects.filter(
        function_name="fail_first_time", input=dumps(key), status=Execution.Status.FAILED
    ).exists()
    if not failed_before:
        raise RuntimeError(f"transient failure for {key}")
    return f"recovered {key}"


@app.activity
def sized_text(size: int) -> str:
    return "x" * size


@app.orchestrator
def call_activity_by_name(ctx):
    """Calls the activity named by the input ({"activity": name, "input": value}) and returns its result."""
    call = ctx.get_input()
    return (yield ctx.call_activity(call["activity"], call.get("input")))


@app.orchestrator
def catch_activity_failure(ctx):
    """Calls ``fail`` and returns what the TaskFailedError it caught said."""
    from functions import TaskFailedError

    try:
        yield ctx.call_activity("fail", ctx.get_input())
    except TaskFailedError as error:
        return {"error_type": error.details.error_type, "message": error.details.message, "error": str(error)}
    return "not failed"


@app.orchestrator
def unserializable_output(ctx):
    return {"a set", "is not JSON"}


@app.orchestrator
def call_sub_orchestrator_by_name(ctx):
    """Calls the sub-orchestrator named by the input ({"orchestrator", "input", "instance_id"})."""
    call = ctx.get_input()
    return (yield ctx.call_sub_orchestrator(call["orchestrator"], call.get("input"), call.get("instance_id")))


@app.orchestrator
def send_event_to(ctx):
    """Raises an event on another instance ({"instance_id", "name", "data"})."""
    event = ctx.get_input()
    ctx.send_event(event["instance_id"], event["name"], event.get("data"))
    return "sent"


@app.orchestrator
def wait_on_timer(ctx):
    """Waits on a durable timer of ``input`` seconds."""
    from datetime import timedelta

    yield ctx.create_timer(timedelta(seconds=ctx.get_input()))
    return "fired"


@app.orchestrator
def continue_on_event(ctx):
    """Each generation waits for a "next" event or an hour; "again" continues as a new generation."""
    from datetime import timedelta

    generation = ctx.get_input() or 0
    next_event = ctx.wait_for_external_event("next")
    winner = yield ctx.task_any([next_event, ctx.create_timer(timedelta(hours=1))])
    if winner is next_event and next_event.result == "again":
        ctx.continue_as_new(generation + 1)
        return None
    return {"generation": generation, "ended_by": "event" if winner is next_event else "timer"}


@app.orchestrator
def echo_each(ctx):
    """Calls ``echo`` for each item of the input list, one after another; returns the results."""
    results = []
    for item in ctx.get_input():
        results.append((yield ctx.call_activity("echo", item)))
    return results
