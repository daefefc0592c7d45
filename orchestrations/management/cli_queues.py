"""``durable queue put|peek|list|purge|requeue``: durable queues from a shell, through the
same services as the HTTP API and the console. Bad input (an invalid or unknown queue, a
message that is not JSON or is over the payload limit) exits with status 2, changing nothing."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from functions.services import queues
from orchestrations.access.audit import Actor
from orchestrations.engine import serialization

BAD_USAGE = 2
#: The actions that write.
MUTATING = frozenset({"put", "purge", "requeue"})


def _peek_count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= number <= queues.MAX_PEEK:
        raise argparse.ArgumentTypeError(f"{text!r}: peek 1 to {queues.MAX_PEEK} messages")
    return number


def add_parser(action: Callable[..., CommandParser], parser_class: type[CommandParser]) -> None:
    """Add ``queue`` and its actions; ``action`` makes a top-level action's parser."""
    queue = action(
        "queue",
        "Put, peek, list, requeue or purge messages of durable queues",
        "Queues are the ones queue-trigger functions and queue output bindings name.",
    )
    actions = queue.add_subparsers(
        dest="queue_action", required=True, metavar="QUEUE_ACTION", parser_class=parser_class
    )
    put = actions.add_parser("put", help="put a message on a queue and print its id")
    put.add_argument("name", metavar="NAME", help="the queue")
    body = put.add_mutually_exclusive_group(required=True)
    body.add_argument("--message", metavar="TEXT", help="the message, as text")
    body.add_argument("--json", dest="json_message", metavar="JSON", help="the message, as a JSON value")
    peek = actions.add_parser("peek", help="print the first messages of a queue as JSON, leaving them there")
    peek.add_argument("name", metavar="NAME", help="the queue")
    peek.add_argument("-n", dest="count", type=_peek_count, default=1, metavar="N", help="how many (default 1)")
    listing = actions.add_parser("list", help="list queues: depth, oldest message's age, poison messages")
    listing.add_argument("--json", action="store_true", help="print JSON, not a table")
    requeue = actions.add_parser("requeue", help="move the messages of NAME-poison back to NAME")
    requeue.add_argument("name", metavar="NAME", help="the queue (not its poison queue)")
    purge = actions.add_parser("purge", help="delete every message of a queue")
    purge.add_argument("name", metavar="NAME", help="the queue")


def changes_something(options: dict[str, Any]) -> bool:
    return options["queue_action"] in MUTATING


def handle(options: dict[str, Any], actor: Actor, write: Callable[[str], None]) -> None:
    try:
        HANDLERS[options["queue_action"]](options, actor, write)
    except queues.QueueError as error:
        raise CommandError(str(error), returncode=BAD_USAGE) from None


def _put(options: dict[str, Any], actor: Actor, write: Callable[[str], None]) -> None:
    if options["json_message"] is not None:
        try:
            value = serialization.parse(options["json_message"], "--json")
        except serialization.InvalidJsonError as error:
            raise CommandError(str(error), returncode=BAD_USAGE) from None
    else:
        value = options["message"]
    message = queues.put(options["name"], value, actor=actor)
    write(message.message_id)


def _peek(options: dict[str, Any], actor: Actor, write: Callable[[str], None]) -> None:
    messages = queues.peek(options["name"], options["count"])
    rows = [
        {
            "id": message.message_id,
            "body": message.body,
            "dequeueCount": message.dequeue_count,
            "insertionTime": message.inserted_at.isoformat(),
            "expirationTime": message.expires_at.isoformat(),
            "timeNextVisible": message.visible_at.isoformat(),
            "lastError": message.last_error or None,
        }
        for message in messages
    ]
    write(json.dumps(rows, indent=2))


def _list(options: dict[str, Any], actor: Actor, write: Callable[[str], None]) -> None:
    now = timezone.now()
    summaries = queues.list_queues(now)
    rows = [
        {
            "name": summary.name,
            "depth": summary.depth,
            "visible": summary.visible,
            "oldestAgeSeconds": summary.oldest_age_seconds(now),
            "poisonCount": summary.poison_count,
            "readers": list(summary.readers),
        }
        for summary in summaries
    ]
    if options["json"]:
        write(json.dumps(rows, indent=2))
    elif rows:
        write(_table(rows))
    else:
        write("No queues.")


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("QUEUE", "DEPTH", "VISIBLE", "OLDEST", "POISON", "READ BY")
    lines = [
        (
            row["name"],
            str(row["depth"]),
            str(row["visible"]),
            "-" if row["oldestAgeSeconds"] is None else f"{row['oldestAgeSeconds']:.0f}s",
            str(row["poisonCount"]),
            ", ".join(row["readers"]) or "-",
        )
        for row in rows
    ]
    widths = [max(len(line[index]) for line in [header, *lines]) for index in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    )


def _requeue(options: dict[str, Any], actor: Actor, write: Callable[[str], None]) -> None:
    moved = queues.requeue_poison(options["name"], actor=actor)
    write(f"Moved {moved} message{'' if moved == 1 else 's'} back to {options['name']!r}.")


def _purge(options: dict[str, Any], actor: Actor, write: Callable[[str], None]) -> None:
    deleted = queues.purge(options["name"], actor=actor)
    write(f"Deleted {deleted} message{'' if deleted == 1 else 's'} from {options['name']!r}.")


HANDLERS: dict[str, Callable[[dict[str, Any], Actor, Callable[[str], None]], None]] = {
    "put": _put,
    "peek": _peek,
    "list": _list,
    "requeue": _requeue,
    "purge": _purge,
}
