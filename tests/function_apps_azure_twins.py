"""The orchestrations of tests/azure_function_app.py written with Perdura's own API, call for
call: tests/functions/test_azure_equivalence.py runs each pair on the same input and compares
their outputs and histories."""

from __future__ import annotations

from datetime import timedelta

from functions import EntityId, FunctionApp, RetryOptions, TaskFailedError

app = FunctionApp("tests-azure-twins")


@app.orchestrator
def twin_chaining(ctx):
    results = []
    for city in ctx.get_input() or ["Tokyo", "Seattle", "London"]:
        results.append((yield ctx.call_activity("az_say_hello", city)))
    return results


@app.orchestrator
def twin_fan_out_fan_in(ctx):
    tasks = [ctx.call_activity("az_async_double", number) for number in range(ctx.get_input())]
    return sum((yield ctx.task_all(tasks)))


@app.orchestrator
def twin_parent(ctx):
    first = yield ctx.call_sub_orchestrator("twin_chaining", ["Oslo"])
    second = yield ctx.call_sub_orchestrator("twin_chaining", ["Lima", "Cairo"], f"{ctx.instance_id}-child")
    return first + second


@app.orchestrator
def twin_human_interaction(ctx):
    timeout = ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=ctx.get_input() or 3600))
    approval = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([approval, timeout])
    if winner is approval:
        timeout.cancel()
        return f"approved: {approval.result}"
    return "timed out"


@app.orchestrator
def twin_retry(ctx):
    options = RetryOptions(first_retry_interval_in_milliseconds=10, max_number_of_attempts=3)
    try:
        yield ctx.call_activity_with_retry("az_fail_always", options, "x")
    except TaskFailedError:
        return "gave up"
    return "succeeded"


@app.orchestrator
def twin_eternal(ctx):
    generation = ctx.get_input() or 0
    ctx.set_custom_status({"generation": generation})
    yield ctx.call_activity("az_say_hello", f"generation {generation}")
    if generation < 2:
        ctx.continue_as_new(generation + 1)
        return None
    return f"ended at generation {generation}"


@app.orchestrator
def twin_counter_user(ctx):
    entity = EntityId("az_counter", ctx.get_input())
    ctx.signal_entity(entity, "add", 3)
    ctx.signal_entity(entity, "add", 4)
    return (yield ctx.call_entity(entity, "get"))


@app.orchestrator
def twin_monitor(ctx):
    check = 0
    while True:
        check += 1
        status = yield ctx.call_activity("az_check_job", check)
        ctx.set_custom_status({"check": check, "status": status})
        if status == "done":
            return check
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(milliseconds=100))
