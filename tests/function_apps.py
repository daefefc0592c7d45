"""Function apps used by the tests. Worker processes import them too (PERDURA_FUNCTION_APPS)."""

from __future__ import annotations

import logging
import threading

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


@app.activity
def nap(seconds: float) -> float:
    """Takes ``seconds``: long enough to kill the worker running it."""
    import time

    time.sleep(seconds)
    return seconds


@app.orchestrator
def steps_with_a_nap_and_a_child(ctx):
    """Like ``three_steps_and_a_child``, with a nap (of ``input`` seconds) as the second step."""
    steps = [(yield ctx.call_activity("echo", 0))]
    steps.append((yield ctx.call_activity("nap", ctx.get_input())))
    steps.append((yield ctx.call_activity("echo", 2)))
    return (yield ctx.call_sub_orchestrator("echo_orchestrator", steps))


@app.orchestrator
def three_steps_and_a_child(ctx):
    """Three activities, an entity call, then a sub-orchestration (which calls one more
    activity): the tree the tracing tests follow."""
    steps = []
    for step in range(3):
        steps.append((yield ctx.call_activity("echo", step)))
    yield ctx.call_entity("@journal@traced", "append", len(steps))
    return (yield ctx.call_sub_orchestrator("echo_orchestrator", steps))


# Used by the storage, services and worker tests (tests/orchestrations).


@app.activity
def fail_first_time(key: str) -> str:
    """A transient fault: fails on its first run for ``key`` and succeeds on every later one.
    The Invocation table remembers the failed run, so worker processes agree on it."""
    from functions.models import Invocation
    from orchestrations.engine.serialization import dumps

    failed_before = Invocation.objects.filter(
        function_name="fail_first_time", input=dumps(key), status=Invocation.Status.FAILED
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


# Used by the entity tests (tests/entities).


@app.entity
def journal(ctx):
    """Keeps the list of values appended to it, in the order the operations ran."""
    entries = ctx.get_state(list)
    if ctx.operation_name == "append":
        entries.append(ctx.get_input())
    elif ctx.operation_name == "get":
        ctx.set_result(entries)
    else:
        raise ValueError(f"journal has no operation {ctx.operation_name!r}")
    ctx.set_state(entries)


@app.entity
def courier(ctx):
    """Sends what it is asked to: ``signal`` ({"entity", "operation", "input", "delay_seconds"})
    signals another entity; ``start`` ({"orchestrator", "input", "instance_id"}) starts an
    orchestration. It counts the requests it carried out."""
    from datetime import timedelta

    from django.utils import timezone

    request = ctx.get_input()
    if ctx.operation_name == "signal":
        delay = request.get("delay_seconds")
        when = timezone.now() + timedelta(seconds=delay) if delay else None
        ctx.signal_entity(request["entity"], request["operation"], request.get("input"), scheduled_time=when)
    elif ctx.operation_name == "start":
        ctx.start_new_orchestration(request["orchestrator"], request.get("input"), request.get("instance_id"))
    else:
        raise ValueError(f"courier has no operation {ctx.operation_name!r}")
    ctx.set_state(ctx.get_state(lambda: 0) + 1)


@app.entity
def slow_sequence(ctx):
    """Takes ``next`` operations numbered 1, 2, 3... from one sender, about 2 ms each, and
    records every number that did not follow the one before: a lost operation leaves a gap, an
    operation applied twice repeats a number."""
    import time

    state = ctx.get_state(lambda: {"count": 0, "last": 0, "out_of_order": []})
    if ctx.operation_name == "next":
        number = ctx.get_input()
        time.sleep(0.002)
        if number != state["last"] + 1:
            state["out_of_order"].append([state["last"], number])
        state["count"] += 1
        state["last"] = number
    elif ctx.operation_name == "get":
        ctx.set_result(state)
    ctx.set_state(state)


@app.orchestrator
def call_entities(ctx):
    """Calls each [entity id, operation, input] of the input in turn and returns the results;
    a failed call's result is {"error_type", "message"}."""
    from functions import TaskFailedError

    results = []
    for entity_id, operation, operation_input in ctx.get_input():
        try:
            results.append((yield ctx.call_entity(entity_id, operation, operation_input)))
        except TaskFailedError as error:
            results.append({"error_type": error.details.error_type, "message": str(error)})
    return results


@app.orchestrator
def call_entity_by_name(ctx):
    """Calls one entity operation ({"entity", "operation", "input"}) and returns its result; a
    failure is not caught."""
    call = ctx.get_input()
    return (yield ctx.call_entity(call["entity"], call["operation"], call.get("input")))


@app.orchestrator
def signal_entities(ctx):
    """Signals each [entity id, operation, input] of the input, all in one episode; a fourth
    item, if given, delays that signal by so many seconds."""
    from datetime import timedelta

    for entity_id, operation, operation_input, *delay in ctx.get_input():
        when = ctx.current_utc_datetime + timedelta(seconds=delay[0]) if delay else None
        ctx.signal_entity(entity_id, operation, operation_input, scheduled_time=when)
    return len(ctx.get_input())


@app.orchestrator
def signal_in_steps(ctx):
    """Signals ``operation`` with each of ``values`` to ``entity``, one episode per value (an
    ``echo`` activity between them), so that other senders' signals can come in between."""
    job = ctx.get_input()
    for value in job["values"]:
        ctx.signal_entity(job["entity"], job["operation"], value)
        yield ctx.call_activity("echo", value)
    return len(job["values"])


@app.orchestrator
def hold_locks(ctx):
    """Locks the entities of the input and holds them until a "release" event."""
    with (yield ctx.lock_entities(ctx.get_input())):
        yield ctx.wait_for_external_event("release")
    return "released"


@app.orchestrator
def lock_or_give_up(ctx):
    """Asks to lock the entities of the input and holds them until a "release" event, unless a
    "give_up" event comes first: then it continues as new without them and waits for "stop"."""
    job = ctx.get_input()
    if job.get("gave_up"):
        yield ctx.wait_for_external_event("stop")
        return "stopped"
    lock = ctx.lock_entities(job["entities"])
    give_up = ctx.wait_for_external_event("give_up")
    if (yield ctx.task_any([lock, give_up])) is give_up:
        ctx.continue_as_new({**job, "gave_up": True})
        return None
    with lock.result:
        yield ctx.wait_for_external_event("release")
    return "released"


@app.orchestrator
def fail_inside_critical_section(ctx):
    """Locks the entities of the input, then fails on an activity without leaving the block."""
    with (yield ctx.lock_entities(ctx.get_input())):
        yield ctx.call_activity("fail", "failed while holding locks")


@app.orchestrator
def fail_after_critical_section(ctx):
    """Locks the entities of the input and leaves the block, then fails once on an activity."""
    with (yield ctx.lock_entities(ctx.get_input())):
        pass
    return (yield ctx.call_activity("fail_first_time", "after the critical section"))


@app.orchestrator
def repeat_text(ctx):
    """Builds its output itself, so a test can make the output large from a small input."""
    return "x" * ctx.get_input()


@app.activity
def log_and_echo(value):
    """Logs a line (kept with its Invocation) and returns its input."""
    logging.getLogger("tests.activities").warning("working on %s", value)
    return value


@app.activity
def log_while_another_thread_logs(value):
    """Logs a line while another thread of the same process logs one too."""
    other = threading.Thread(target=lambda: logging.getLogger("elsewhere").warning("not mine"))
    other.start()
    other.join()
    logging.getLogger("tests.activities").warning("working on %s", value)
    return value


@app.orchestrator
def wait_for_event_twice(ctx):
    first = yield ctx.wait_for_external_event("e")
    second = yield ctx.wait_for_external_event("e")
    return [first, second]


@app.orchestrator
def child_or_go_then_continue(ctx):
    """Generation 0 races a child against a "go" event and continues as new; generation 1
    calls an activity under the same task number the child had."""
    if not ctx.get_input():
        child = ctx.call_sub_orchestrator("wait_for_approval", None, "racing-child")
        yield ctx.task_any([child, ctx.wait_for_external_event("go")])
        ctx.continue_as_new(1)
        return None
    return (yield ctx.call_activity("echo", "from the activity"))


@app.orchestrator
def same_child_twice(ctx):
    first = ctx.call_sub_orchestrator("wait_for_approval", None, "only-child")
    second = ctx.call_sub_orchestrator("wait_for_approval", None, "only-child")
    return (yield ctx.task_all([first, second]))


@app.orchestrator
def named_child(ctx):
    return (yield ctx.call_sub_orchestrator("wait_for_approval", "from the parent", "shared-child"))


import tests.azure_function_app  # noqa: E402  (an Azure Functions app)
import tests.function_apps_azure_twins  # noqa: E402  (its orchestrations written with Perdura's API)
import tests.function_apps_concurrency  # noqa: E402  (the concurrency tests' functions)
import tests.function_apps_http  # noqa: E402  HTTP functions (tests/functions/test_http_*.py)
import tests.function_apps_queues  # noqa: E402  (the queue tests' functions)
import tests.function_apps_timers  # noqa: E402  (the timer tests' functions)
from functions.azure.loader import register_azure_apps  # noqa: E402
from tests import function_apps_console  # noqa: E402, F401  (the functions console's test functions)

# Registered as Perdura registers an Azure app in a module named in PERDURA_FUNCTION_APPS.
register_azure_apps(tests.azure_function_app)
