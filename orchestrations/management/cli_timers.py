"""``durable timer list|pause NAME|resume NAME|run NAME``: timer schedules from the CLI.

An unknown name is refused by the services (UnknownTimerError, a BadInputError), which the
``durable`` command turns into exit status 2; pause, resume and run change something, so
PERDURA_READ_ONLY refuses them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import CommandParser, OutputWrapper

from functions.services import timers
from orchestrations.access.audit import Actor


def add_parser(action: Callable[..., CommandParser]) -> None:
    """Add the ``timer`` action through ``durable``'s action factory."""
    timer = action(
        "timer",
        "List timer schedules, pause or resume one, or run one now",
        "NAME is the timer function's name. A paused schedule skips its occurrences until it is "
        "resumed, with no catch-up run for them; a run asked for with `run` happens once, paused or not.",
    )
    # The sub-actions parse errors as durable's own actions do (exit status 2).
    timer_actions = timer.add_subparsers(
        dest="timer_action", required=True, metavar="TIMER_ACTION", parser_class=type(timer)
    )
    listing = timer_actions.add_parser("list", help="list schedules: state, next occurrence, last run")
    listing.add_argument("--json", action="store_true", help="print JSON, with the next five occurrences")
    for name, summary in (
        ("pause", "stop running a schedule's occurrences"),
        ("resume", "run a paused schedule again from its next occurrence"),
        ("run", "run a timer function once now, off schedule"),
    ):
        command = timer_actions.add_parser(name, help=summary)
        command.add_argument("name", metavar="NAME", help="the timer function")


def changes_something(options: dict[str, Any]) -> bool:
    return options["timer_action"] != "list"


def handle(options: dict[str, Any], stdout: OutputWrapper, actor: Actor) -> None:
    action, name = options["timer_action"], options.get("name")
    if action == "pause":
        changed = timers.pause(name, actor=actor)
        stdout.write(f"Paused the schedule of {name}." if changed else f"The schedule of {name} was paused already.")
    elif action == "resume":
        changed = timers.resume(name, actor=actor)
        stdout.write(f"Resumed the schedule of {name}." if changed else f"The schedule of {name} was not paused.")
    elif action == "run":
        requested_at = timers.run_now(name, actor=actor)
        stdout.write(f"Asked for a run of {name} ({_timestamp(requested_at)} UTC); a worker runs it once.")
    else:
        _list(options, stdout)


def _list(options: dict[str, Any], stdout: OutputWrapper) -> None:
    views = timers.list_timers(runs=1)
    if options["json"]:
        stdout.write(json.dumps([_document(view) for view in views], indent=2))
    elif views:
        stdout.write(_table(views))
    else:
        stdout.write("No timer functions.")


def _state(view: timers.TimerView) -> str:
    if not view.is_registered:
        return "not registered"
    if view.row.is_paused:
        return "paused"
    return "active" if view.is_enabled else "disabled"


def _document(view: timers.TimerView) -> dict[str, Any]:
    row = view.row
    return {
        "name": view.name,
        "schedule": row.schedule,
        "state": _state(view),
        "nextOccurrences": [moment.isoformat() for moment in view.upcoming],
        "lastRun": row.last_run_at.isoformat() if row.last_run_at else None,
        "lastStatus": row.last_status or None,
        "runRequested": row.run_requested_at.isoformat() if row.run_requested_at else None,
    }


def _table(views: list[timers.TimerView]) -> str:
    rows = [("NAME", "SCHEDULE", "STATE", "NEXT (UTC)", "LAST RUN (UTC)", "LAST STATUS")]
    rows += [
        (
            view.name,
            view.row.schedule,
            _state(view),
            _timestamp(view.upcoming[0]) if view.upcoming else "-",
            _timestamp(view.row.last_run_at) if view.row.last_run_at else "never",
            view.row.last_status or "-",
        )
        for view in views
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
