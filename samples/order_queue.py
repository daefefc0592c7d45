"""A queue consumer that fans out: each message on ``orders`` is one order with several lines;
``split_order`` puts one message per line on ``order-lines`` through its output binding (a
list puts one message per item), and ``pick_line`` handles each line on its own, in parallel
across the workers.

A message whose function fails comes back (its ``dequeue_count`` grows) and after five
failures moves to ``order-lines-poison``, where the console shows it and can requeue it.
Put an order from the console's Queues page or the CLI::

    durable queue put orders --json '{"order_id": "A-9", "lines": [{"sku": "tea", "qty": 2}]}'
"""

from __future__ import annotations

import logging

from functions import FunctionApp, Out, QueueMessage

app = FunctionApp("order_queue")
logger = logging.getLogger(__name__)


@app.queue_trigger(arg_name="msg", queue_name="orders")
@app.queue_output(arg_name="lines", queue_name="order-lines")
def split_order(msg: QueueMessage, lines: Out[list]) -> None:
    order = msg.get_json()
    lines.set([{"order_id": order["order_id"], **line} for line in order["lines"]])
    logger.info("order %s split into %d line(s)", order["order_id"], len(order["lines"]))


@app.queue_trigger(arg_name="msg", queue_name="order-lines")
def pick_line(msg: QueueMessage) -> None:
    line = msg.get_json()
    if line.get("qty", 0) <= 0:
        raise ValueError(f"line {line.get('sku')!r} of order {line['order_id']} has no quantity")
    logger.info("picked %s x %s for order %s", line["qty"], line["sku"], line["order_id"])
