"""Queue-trigger functions for the queue tests (tests/functions/test_queue*.py). Worker
processes import them too, through tests/function_apps.py. Every queue here starts with
``tests-queues-`` so as to clash with no other test's."""

from __future__ import annotations

import logging
import time

from functions import FunctionApp, Out, QueueMessage

app = FunctionApp("tests-queues")
logger = logging.getLogger(__name__)

#: How long ``queues_hold_first`` holds its first delivery: far past any test's visibility timeout.
HOLD_SECONDS = 600


@app.queue_trigger(arg_name="msg", queue_name="tests-queues-echo")
def queues_echo(msg: QueueMessage) -> str:
    logger.info("got %s on delivery %d", msg.get_body().decode(), msg.dequeue_count)
    return msg.get_body().decode()


@app.queue_trigger(arg_name="msg", queue_name="tests-queues-flaky")
def queues_flaky(msg: QueueMessage) -> int:
    """Fails on its first three deliveries of a message, succeeds on the fourth."""
    logger.info("delivery %d of %s", msg.dequeue_count, msg.id)
    if msg.dequeue_count < 4:
        raise RuntimeError(f"failing delivery {msg.dequeue_count}")
    return msg.dequeue_count


@app.queue_trigger(arg_name="msg", queue_name="tests-queues-doomed")
def queues_doomed(msg: QueueMessage) -> None:
    raise ValueError(f"cannot handle {msg.get_body().decode()!r}")


@app.queue_trigger(arg_name="msg", queue_name="tests-queues-fan")
@app.queue_output(arg_name="out", queue_name="tests-queues-fanned")
def queues_fan(msg: QueueMessage, out: Out[list]) -> None:
    """Puts two messages per message, then fails if the message says so: the output binding
    must put nothing then."""
    order = msg.get_json()
    out.set([{"part": 1, **order}, {"part": 2, **order}])
    if order.get("fail"):
        raise RuntimeError("failing after setting the output")


@app.queue_trigger(arg_name="msg", queue_name="tests-queues-held")
def queues_hold_first(msg: QueueMessage) -> int:
    """Blocks on a message's first delivery (its worker is killed meanwhile); returns at once
    on any later one."""
    if msg.dequeue_count == 1:
        time.sleep(HOLD_SECONDS)
    return msg.dequeue_count
