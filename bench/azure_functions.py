"""W1's and W2's orchestrations written for Azure Functions (the Azure SDKs' v2 model): the
same calls as bench/functions.py's, run through the SDK's out-of-process protocol
(functions/azure/), so that W1 and W2 show what that path costs beside the native one."""

from __future__ import annotations

import azure.durable_functions as df

from bench.functions import CITIES

app = df.DFApp()


@app.activity_trigger(input_name="city")
def bench_az_say_hello(city: str) -> str:
    return f"Hello {city}!"


@app.orchestration_trigger(context_name="context")
def bench_az_hello_sequence5(context: df.DurableOrchestrationContext):
    greetings = []
    for city in CITIES:
        greetings.append((yield context.call_activity("bench_az_say_hello", city)))
    return greetings


@app.activity_trigger(input_name="value")
def bench_az_increment(value: int) -> int:
    return value + 1


@app.orchestration_trigger(context_name="context")
def bench_az_chain(context: df.DurableOrchestrationContext):
    value = 0
    for _ in range(context.get_input()):
        value = yield context.call_activity("bench_az_increment", value)
    return value
