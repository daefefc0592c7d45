"""The benchmark's function app: the orchestrators, activities and entity that W1-W4 run,
Q1's queue consumer and H1's HTTP function.

The names carry a ``bench_`` prefix so that they never clash with the samples, which are
loaded next to them. The activities do no work of their own: the benchmarks measure the
engine, not the functions it runs.
"""

from __future__ import annotations

from functions import AuthLevel, FunctionApp

app = FunctionApp("bench")

#: W1's five calls, as in Durable Functions' HelloSequence5 benchmark.
CITIES = ["Tokyo", "Seattle", "London", "Amsterdam", "Mumbai"]


@app.activity
def bench_say_hello(city: str) -> str:
    return f"Hello {city}!"


@app.orchestrator
def bench_hello_sequence5(ctx):
    greetings = []
    for city in CITIES:
        greetings.append((yield ctx.call_activity("bench_say_hello", city)))
    return greetings


@app.activity
def bench_increment(value: int) -> int:
    return value + 1


@app.orchestrator
def bench_chain(ctx):
    """Input: the number of steps. Each step is one activity call that needs the previous result."""
    steps = ctx.get_input()
    value = 0
    for _ in range(steps):
        value = yield ctx.call_activity("bench_increment", value)
    return value


@app.activity
def bench_square(value: int) -> int:
    return value * value


@app.orchestrator
def bench_fan_out_fan_in(ctx):
    """Input: the number of activities, all scheduled at once and gathered; returns the sum of squares."""
    count = ctx.get_input()
    results = yield ctx.task_all([ctx.call_activity("bench_square", number) for number in range(count)])
    return sum(results)


@app.entity
def bench_counter(ctx):
    value = ctx.get_state(lambda: 0)
    if ctx.operation_name == "add":
        value += ctx.get_input()
    elif ctx.operation_name == "get":
        ctx.set_result(value)
    else:
        raise ValueError(f"bench_counter has no operation {ctx.operation_name!r}; use add or get")
    ctx.set_state(value)


@app.queue_trigger(arg_name="msg", queue_name="bench-noop")
def bench_queue_noop(msg) -> None:
    """Q1's consumer: it does nothing, so that Q1 measures the queue, not the function."""


@app.route(route="bench/hello", methods=["GET"], auth_level=AuthLevel.ANONYMOUS)
def bench_http_hello(req) -> str:
    """H1's function: the same answer as the plain Django view it is compared with
    (bench/urls.py), so that H1 measures what serving it as a function adds."""
    return "hello"
