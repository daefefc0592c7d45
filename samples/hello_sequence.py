"""Function chaining: call activities one after another, each output feeding the result."""

from __future__ import annotations

from functions import FunctionApp

app = FunctionApp("hello")

CITIES = ["Tokyo", "Seattle", "London"]
CITIES_5 = [*CITIES, "Amsterdam", "Mumbai"]


@app.activity
def say_hello(city: str) -> str:
    return f"Hello {city}!"


@app.orchestrator
def hello_sequence(ctx):
    greetings = []
    for city in CITIES:
        greetings.append((yield ctx.call_activity("say_hello", city)))
    return greetings


@app.orchestrator
def hello_sequence5(ctx):
    greetings = []
    for city in CITIES_5:
        greetings.append((yield ctx.call_activity("say_hello", city)))
    return greetings
