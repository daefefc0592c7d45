"""``durable invoke NAME --input JSON``: run a timer, queue or activity function by hand, as
Azure's admin endpoint does (functions/services/run_by_hand.py says how each kind takes its
input). Prints the invocation id, then its status and its result or error.

Exit status: 0 when the function completed, 1 when it failed (the error is printed), 2 for an
unknown function, an HTTP function, or input that is not JSON (nothing is run then).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError, CommandParser, OutputWrapper

from functions.models import Invocation
from functions.services import run_by_hand
from orchestrations import services
from orchestrations.access.audit import Actor

UNSUCCESSFUL, BAD_USAGE = 1, 2
ACTION = "invoke"


def add_parser(action: Callable[..., CommandParser]) -> None:
    """Add the ``invoke`` action through durable.py's ``action(name, summary, description)``."""
    invoke = action(
        ACTION,
        "Run a timer, queue or activity function now and print its invocation id and outcome",
        "A queue function gets a message whose body is the input (a JSON string as its text), a "
        "timer function past_due=False (the input is not used), an activity the input. HTTP "
        "functions are run by requests to their routes. Exit status 1 if the function failed.",
    )
    invoke.add_argument("function_name", metavar="NAME", help="the function to run")
    invoke.add_argument("--input", metavar="JSON", help="the input, as JSON (default: null)")


def handle(options: dict[str, Any], stdout: OutputWrapper, actor: Actor) -> None:
    input_value = services.parse_json(options["input"], "--input")
    try:
        ran = run_by_hand.run(options["function_name"], input_value, actor=actor)
    except run_by_hand.RunByHandError as error:
        raise CommandError(str(error), returncode=BAD_USAGE) from None
    invocation = ran.invocation
    stdout.write(invocation.invocation_id)
    stdout.write(f"status: {invocation.status} in {invocation.duration.total_seconds() * 1000:.1f} ms")
    if ran.messages_put:
        stdout.write(f"messages put: {ran.messages_put}")
    if invocation.status == Invocation.Status.FAILED:
        raise CommandError(f"{invocation.error_type}: {invocation.error_message}", returncode=UNSUCCESSFUL)
    if invocation.output is not None:
        stdout.write(f"result: {_shown(invocation.output)}")


def _shown(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
