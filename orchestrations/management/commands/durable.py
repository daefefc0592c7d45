"""``manage.py durable``: start, inspect and act on orchestration instances from a shell.

Every action goes through ``orchestrations.services``, like the console and the HTTP API.
Exit status: 0 when the command did what it was asked; 1 when the instance it reports on
ended Failed, Terminated or Canceled, or a wait ran out (the status JSON is printed anyway);
2 for bad usage or input (nothing is changed then).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, DjangoHelpFormatter

from entities import services as entity_services
from orchestrations import services
from orchestrations.access import apikeys
from orchestrations.access.audit import Actor
from orchestrations.access.roles import ROLES, is_read_only
from orchestrations.engine import OrchestrationStatus
from orchestrations.engine.serialization import loads
from orchestrations.engine.status import TERMINAL_STATUSES
from orchestrations.management import cli_function_keys, cli_invoke, cli_queues, cli_timers
from orchestrations.models import Instance
from orchestrations.services import paging
from orchestrations.services.status import status_document

UNSUCCESSFUL, BAD_USAGE = 1, 2

#: Changes made from the CLI are audited under the operating-system user who ran it.
CLI = Actor.for_cli()

#: The control commands: the service each calls and how the CLI reports it.
CONTROL_COMMANDS: dict[str, tuple[Callable[..., None], str]] = {
    "terminate": (services.terminate, "Requested termination of"),
    "suspend": (services.suspend, "Requested suspension of"),
    "resume": (services.resume, "Requested resumption of"),
    "rewind": (services.rewind, "Rewound"),
}

UNSUCCESSFUL_STATUSES = {OrchestrationStatus.FAILED, OrchestrationStatus.TERMINATED, OrchestrationStatus.CANCELED}
_STATUS_BY_LOWER_NAME = {status.value.lower(): status.value for status in OrchestrationStatus}
_STATUS_NAMES = ", ".join(status.value for status in OrchestrationStatus)
_FINISHED_STATUS_NAMES = ",".join(sorted(TERMINAL_STATUSES))

EXAMPLES = f"""\
examples:
  manage.py durable start hello_sequence --wait 30
  manage.py durable start process_order --id order-42 --input '{{"id": 42}}'
  manage.py durable status order-42 --history
  manage.py durable list --status Running,Pending --created-after 2026-11-28
  manage.py durable raise-event order-42 approval --data true
  manage.py durable terminate order-42 --reason "customer cancelled"
  manage.py durable purge --status {_FINISHED_STATUS_NAMES} --created-before 2026-01-01

exit status:
  0  done
  1  the instance ended Failed, Terminated or Canceled, or --wait ran out (the status is printed anyway)
  2  bad usage or input: an unknown orchestrator or instance, malformed JSON, an invalid id,
     an action the instance's state does not allow; nothing was changed
"""


class _HelpFormatter(DjangoHelpFormatter):
    """Django's option order; prose is wrapped to the terminal, but a text laid out in lines
    (the examples and exit statuses) is printed as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _SubcommandParser(CommandParser):
    """A subcommand's parser: usage errors exit with status 2 from the shell (argparse prints
    the usage and the error) and raise a CommandError with return code 2 from call_command."""

    def error(self, message: str):
        if self.called_from_command_line:
            super().error(message)
        raise CommandError(f"Error: {message}", returncode=BAD_USAGE)


# Argument types: argparse reports a bad value as a usage error naming the option.


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not seconds >= 0:  # Also refuses NaN.
        raise argparse.ArgumentTypeError(f"{text!r}: the number of seconds must be 0 or more")
    return seconds


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return number


def _utc_datetime(text: str) -> datetime:
    """An ISO 8601 date or date-time; one without an offset is taken as UTC."""
    try:
        return paging.parse_utc(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or date-time this server can store "
            "(such as 2026-11-28 or 2026-11-28T10:00:00Z)"
        ) from None


def _statuses(text: str) -> list[str]:
    """One or more runtime statuses, comma-separated, in any letter case."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"name at least one runtime status: {_STATUS_NAMES}")
    # An unknown name is passed on unchanged for the services to refuse with the full list.
    return [_STATUS_BY_LOWER_NAME.get(name.lower(), name) for name in names]


class Command(BaseCommand):
    help = (
        "Start, inspect and act on durable orchestration instances: start one, show its status "
        "and history, list instances, raise events, terminate, suspend, resume, rewind, restart "
        "and purge. Workers (manage.py serve in the embedded mode, manage.py worker in "
        "production) run the instances; this command only asks."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, epilog=EXAMPLES, **kwargs)
        parser.formatter_class = _HelpFormatter
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action",
            required=True,
            metavar="ACTION",
            title="actions",
            parser_class=_SubcommandParser,
        )

        def action(name: str, summary: str, description: str = "") -> CommandParser:
            return actions.add_parser(
                name,
                help=summary,
                description=f"{summary}. {description}".strip(),
                formatter_class=_HelpFormatter,
            )

        start = action(
            "start",
            "Start a new instance of an orchestrator and print its id",
            "With --wait, wait for it to finish and print its status JSON instead.",
        )
        start.add_argument("name", metavar="NAME", help="the orchestrator function to run")
        start.add_argument(
            "--id",
            dest="instance_id",
            metavar="ID",
            help="the instance id (default: a new random one); an id whose instance has finished is "
            "reused, one whose instance is still running is refused",
        )
        start.add_argument("--input", metavar="JSON", help="the orchestrator's input, as JSON (default: null)")
        start.add_argument("--version", default="", metavar="V", help="a version label stored with the instance")
        start.add_argument(
            "--wait",
            type=_seconds,
            metavar="SECONDS",
            help="wait up to SECONDS for the instance to finish, then print its status JSON; exit "
            "status 1 if it did not complete successfully or is still running",
        )

        status = action(
            "status",
            "Print an instance's status as JSON",
            "The Durable Functions status document: name, instanceId, runtimeStatus, input, output, "
            "customStatus, createdTime, lastUpdatedTime. Exit status 1 if the instance ended Failed, "
            "Terminated or Canceled.",
        )
        status.add_argument("instance_id", metavar="ID", help="the instance id")
        status.add_argument("--history", action="store_true", help="include the history (historyEvents)")

        listing = action(
            "list",
            "List instances, newest first",
            "Filters combine: an instance is listed when it matches all of them. Dates are ISO 8601 "
            "(2026-11-28 or 2026-11-28T10:00:00Z); a date or time without an offset is UTC.",
        )
        _add_status_filter(listing, f"show instances in these runtime statuses: {_STATUS_NAMES}")
        listing.add_argument("--name", metavar="N", help="show instances of orchestrator N only")
        listing.add_argument("--prefix", metavar="P", help="show instances whose id starts with P")
        _add_date_filters(listing)
        listing.add_argument(
            "--limit", type=_positive_int, default=100, metavar="K", help="show at most K instances (default: 100)"
        )
        listing.add_argument("--json", action="store_true", help="print a JSON list of status documents, not a table")

        raise_event = action(
            "raise-event",
            "Send an external event to a running instance",
            "The orchestrator receives it through wait_for_external_event(EVENT).",
        )
        raise_event.add_argument("instance_id", metavar="ID", help="the instance id")
        raise_event.add_argument("event_name", metavar="EVENT", help="the event name")
        raise_event.add_argument("--data", metavar="JSON", help="the event's data, as JSON (default: null)")

        for name, summary, description in (
            ("terminate", "Terminate a running instance", "It ends Terminated, with the reason as its output."),
            ("suspend", "Suspend a running instance", "It stops taking steps until it is resumed."),
            ("resume", "Resume a suspended instance", ""),
            (
                "rewind",
                "Rewind a failed instance",
                "The calls whose failure ended it run again and it carries on from there.",
            ),
        ):
            command = action(name, summary, description)
            command.add_argument("instance_id", metavar="ID", help="the instance id")
            command.add_argument("--reason", metavar="R", help="why; recorded in the instance's history")

        restart = action(
            "restart",
            "Start an instance again with its original input and print the id it runs under",
            "Without --new-id the instance must have finished; it is replaced under the same id.",
        )
        restart.add_argument("instance_id", metavar="ID", help="the instance id")
        restart.add_argument("--new-id", action="store_true", help="run it as a new instance with a new id")

        purge = action(
            "purge",
            "Delete finished instances and everything stored for them",
            "Give one instance id, or --status (with optional date filters) to purge every finished "
            "instance that matches. Running instances are never purged: terminate them first.",
        )
        purge.add_argument("instance_id", nargs="?", metavar="ID", help="the instance to purge")
        _add_status_filter(purge, f"purge instances in these runtime statuses: {_FINISHED_STATUS_NAMES}")
        _add_date_filters(purge)

        entity = action(
            "entity",
            "Signal an entity, print its state, or list entities",
            "Entities are addressed by NAME (case-insensitive) and KEY.",
        )
        entity_actions = entity.add_subparsers(
            dest="entity_action", required=True, metavar="ENTITY_ACTION", parser_class=_SubcommandParser
        )
        signal = entity_actions.add_parser("signal", help="send an operation to an entity (one-way)")
        signal.add_argument("entity_name", metavar="NAME")
        signal.add_argument("entity_key", metavar="KEY")
        signal.add_argument("operation", metavar="OPERATION")
        signal.add_argument("--input", metavar="JSON", help="the operation's input, as JSON (default: null)")
        get = entity_actions.add_parser("get", help="print an entity's state as JSON (exit status 1 if it has none)")
        get.add_argument("entity_name", metavar="NAME")
        get.add_argument("entity_key", metavar="KEY")
        entity_list = entity_actions.add_parser("list", help="list entities that have state")
        entity_list.add_argument("--name", metavar="N", help="only entities named N")
        entity_list.add_argument(
            "--limit", type=_positive_int, default=100, metavar="K", help="show at most K entities (default: 100)"
        )
        entity_list.add_argument("--json", action="store_true", help="print JSON, not a table")

        apikey = action(
            "apikey",
            "Create, list or revoke API keys for the HTTP API",
            "A key is bound to a role (viewer, operator, approver, admin) and shown once, when created.",
        )
        apikey_actions = apikey.add_subparsers(
            dest="apikey_action", required=True, metavar="APIKEY_ACTION", parser_class=_SubcommandParser
        )
        create = apikey_actions.add_parser("create", help="create a key and print it (shown this once only)")
        create.add_argument("--role", required=True, choices=ROLES, help="what the key may do")
        create.add_argument("--name", metavar="N", help="who or what will use it (default: the role and date)")
        key_list = apikey_actions.add_parser("list", help="list keys (never the keys themselves)")
        key_list.add_argument("--all", action="store_true", help="include revoked keys")
        key_list.add_argument("--json", action="store_true", help="print JSON, not a table")
        revoke = apikey_actions.add_parser("revoke", help="revoke a key: requests carrying it are refused")
        revoke.add_argument("prefix", metavar="PREFIX", help="the key's prefix (pdk_ and 8 hex digits)")
        cli_function_keys.add_parser(action, _SubcommandParser)

        cli_invoke.add_parser(action)
        cli_queues.add_parser(action, _SubcommandParser)

        cli_timers.add_parser(action)

    def handle(self, *args, **options) -> None:
        handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "apikey": self._apikey,
            cli_function_keys.ACTION: lambda options: cli_function_keys.handle(options, self.stdout.write, CLI),
            "entity": self._entity,
            "start": self._start,
            "status": self._status,
            "list": self._list,
            "raise-event": self._raise_event,
            **dict.fromkeys(CONTROL_COMMANDS, self._control),
            "restart": self._restart,
            "purge": self._purge,
            cli_invoke.ACTION: lambda options: cli_invoke.handle(options, self.stdout, CLI),
            "queue": lambda options: cli_queues.handle(options, CLI, self.stdout.write),
            "timer": lambda options: cli_timers.handle(options, self.stdout, CLI),
        }
        if is_read_only() and _changes_something(options):
            raise CommandError(
                "PERDURA_READ_ONLY is set: this deployment changes nothing, from the CLI either",
                returncode=BAD_USAGE,
            )
        try:
            handlers[options["action"]](options)
        except (services.OrchestrationError, apikeys.ApiKeyError) as error:
            # Every refusal from the services: an unknown name or instance, an invalid id or
            # payload, a state that does not allow the action. The services changed nothing.
            raise CommandError(str(error), returncode=BAD_USAGE) from None

    # Actions.

    def _start(self, options: dict[str, Any]) -> None:
        input_ = services.parse_json(options["input"], "--input")
        instance_id = services.start(
            options["name"], input_, instance_id=options["instance_id"], version=options["version"], actor=CLI
        )
        if options["wait"] is None:
            self.stdout.write(instance_id)
            return
        instance = services.wait_for_completion(instance_id, options["wait"])
        self._print_json(status_document(instance))
        if not instance.is_terminal:
            raise CommandError(
                f"instance {instance_id!r} is still {instance.runtime_status} after waiting {options['wait']:g}s",
                returncode=UNSUCCESSFUL,
            )
        self._fail_if_unsuccessful(instance)

    def _status(self, options: dict[str, Any]) -> None:
        instance = services.get(options["instance_id"])
        history = services.history(instance.instance_id) if options["history"] else None
        self._print_json(status_document(instance, history=history))
        self._fail_if_unsuccessful(instance)

    def _list(self, options: dict[str, Any]) -> None:
        instances, more = _query(options, options["limit"])
        if options["json"]:
            self._print_json([status_document(instance) for instance in instances])
        elif instances:
            self.stdout.write(_table(instances))
        else:
            self.stdout.write("No instances match.")
        if more:
            self.stderr.write(f"Showing the newest {len(instances)}; more instances match (raise --limit to see them).")

    def _raise_event(self, options: dict[str, Any]) -> None:
        data = services.parse_json(options["data"], "--data")
        services.raise_event(options["instance_id"], options["event_name"], data, actor=CLI)
        self.stdout.write(f"Raised event {options['event_name']!r} on instance {options['instance_id']!r}.")

    def _control(self, options: dict[str, Any]) -> None:
        """terminate, suspend, resume and rewind: one command with a reason, then a line saying so."""
        command, done = CONTROL_COMMANDS[options["action"]]
        command(options["instance_id"], options["reason"], actor=CLI)
        self.stdout.write(f"{done} instance {options['instance_id']!r}.")

    def _restart(self, options: dict[str, Any]) -> None:
        self.stdout.write(services.restart(options["instance_id"], new_instance_id=options["new_id"], actor=CLI))

    def _purge(self, options: dict[str, Any]) -> None:
        filters = options["status"] or options["created_after"] or options["created_before"]
        if options["instance_id"] and filters:
            raise CommandError("give an instance id or filters (--status, dates), not both", returncode=BAD_USAGE)
        if options["instance_id"]:
            purged = services.purge(options["instance_id"], actor=CLI)
        elif options["status"]:
            purged = services.purge_by(
                statuses=options["status"],
                created_from=options["created_after"],
                created_to=options["created_before"],
                actor=CLI,
            )
        else:
            raise CommandError(
                f"name what to purge: an instance id, or --status (finished statuses: {_FINISHED_STATUS_NAMES})",
                returncode=BAD_USAGE,
            )
        self.stdout.write(f"Purged {purged} instance{'' if purged == 1 else 's'}.")

    def _apikey(self, options: dict[str, Any]) -> None:
        action = options["apikey_action"]
        if action == "create":
            name = options["name"] or f"{options['role']} key {datetime.now(UTC):%Y-%m-%d}"
            api_key, plain_key = apikeys.create(name, options["role"], actor=CLI)
            self.stdout.write(
                f"Created API key {api_key.prefix} ({api_key.name}, role {api_key.role}). "
                "This is the only time it is shown; keep it now:"
            )
            self.stdout.write(plain_key)
            self.stdout.write(
                "Send it as the x-functions-key header or the code query parameter; the official "
                f"Python client takes it in its rpcBaseUrl: http://HOST:PORT/runtime/webhooks/durabletask/sdk/{plain_key}/"
            )
        elif action == "revoke":
            api_key = apikeys.revoke(options["prefix"], actor=CLI)
            self.stdout.write(f"Revoked API key {api_key.prefix} ({api_key.name}).")
        else:
            rows = [
                {
                    "prefix": key.prefix,
                    "name": key.name,
                    "role": key.role,
                    "created": key.created_at.isoformat(),
                    "createdBy": key.created_by,
                    "lastUsed": key.last_used_at.isoformat() if key.last_used_at else None,
                    "revoked": key.revoked_at.isoformat() if key.revoked_at else None,
                }
                for key in apikeys.list_keys(include_revoked=options["all"])
            ]
            if options["json"]:
                self._print_json(rows)
            elif rows:
                self.stdout.write(_key_table(rows, show_revoked=options["all"]))
            else:
                self.stdout.write("No API keys.")

    def _entity(self, options: dict[str, Any]) -> None:
        action = options["entity_action"]
        if action == "list":
            page = entity_services.query(name=options["name"], page_size=options["limit"])
            rows = [
                {
                    "name": row.name,
                    "key": row.key,
                    "state": loads(row.state),
                    "lastOperationTime": row.last_operation_at.isoformat() if row.last_operation_at else None,
                    "lockedBy": row.lock_owner,
                }
                for row in page.entities
            ]
            if options["json"]:
                self._print_json(rows)
            elif rows:
                self.stdout.write(_entity_table(rows))
            else:
                self.stdout.write("No entities match.")
            return
        entity_id = entity_services.parse_entity_id(options["entity_name"], options["entity_key"])
        if action == "signal":
            input_ = services.parse_json(options["input"], "--input")
            entity_services.signal(entity_id, options["operation"], input_, actor=CLI)
            self.stdout.write(f"Signalled {options['operation']!r} to entity {entity_id}.")
            return
        try:
            state = entity_services.get(entity_id)
        except entity_services.EntityNotFoundError as error:
            raise CommandError(str(error), returncode=UNSUCCESSFUL) from None
        self._print_json(state.state)

    # Output.

    def _print_json(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2))

    def _fail_if_unsuccessful(self, instance: Instance) -> None:
        if instance.status in UNSUCCESSFUL_STATUSES:
            document = status_document(instance)
            reason = f": {document['output']}" if document["output"] is not None else ""
            raise CommandError(
                f"instance {instance.instance_id!r} ended {instance.runtime_status}{reason}", returncode=UNSUCCESSFUL
            )


def _changes_something(options: dict[str, Any]) -> bool:
    """Whether the command asked for writes: every action but the readings."""
    if options["action"] in ("status", "list"):
        return False
    if options["action"] == "apikey":
        return options["apikey_action"] != "list"
    if options["action"] == cli_function_keys.ACTION:
        return cli_function_keys.changes_something(options)
    if options["action"] == "entity":
        return options["entity_action"] == "signal"
    if options["action"] == "queue":
        return cli_queues.changes_something(options)
    if options["action"] == "timer":
        return cli_timers.changes_something(options)
    return True


def _add_status_filter(parser: CommandParser, help_text: str) -> None:
    parser.add_argument(
        "--status",
        type=_statuses,
        action="extend",
        metavar="S",
        help=f"{help_text} (repeat the option or separate them with commas)",
    )


def _add_date_filters(parser: CommandParser) -> None:
    parser.add_argument(
        "--created-after", type=_utc_datetime, metavar="DATE", help="only instances created at or after DATE"
    )
    parser.add_argument(
        "--created-before", type=_utc_datetime, metavar="DATE", help="only instances created at or before DATE"
    )


def _query(options: dict[str, Any], limit: int) -> tuple[list[Instance], bool]:
    """Up to ``limit`` matching instances, newest first, and whether more match."""
    instances: list[Instance] = []
    token = None
    while True:
        page = services.query(
            statuses=options["status"],
            name=options["name"],
            created_from=options["created_after"],
            created_to=options["created_before"],
            instance_id_prefix=options["prefix"],
            page_size=min(limit - len(instances), 1000),
            continuation_token=token,
        )
        instances += page.instances
        token = page.continuation_token
        if token is None or len(instances) >= limit:
            return instances, token is not None


def _table(instances: list[Instance]) -> str:
    rows = [("ID", "NAME", "STATUS", "CREATED (UTC)", "UPDATED (UTC)")]
    rows += [
        (
            instance.instance_id,
            instance.name,
            instance.runtime_status,
            _timestamp(instance.created_at),
            _timestamp(instance.updated_at),
        )
        for instance in instances
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _entity_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'NAME':<20} {'KEY':<24} {'LAST OPERATION':<26} STATE"]
    for row in rows:
        state = json.dumps(row["state"])
        if len(state) > 60:
            state = state[:57] + "..."
        lines.append(f"{row['name']:<20} {row['key']:<24} {row['lastOperationTime'] or '-':<26} {state}")
    return "\n".join(lines)


def _key_table(rows: list[dict[str, Any]], *, show_revoked: bool) -> str:
    header = f"{'PREFIX':<13} {'NAME':<24} {'ROLE':<9} {'CREATED':<17} {'CREATED BY':<16} {'LAST USED':<17}"
    lines = [header + (" REVOKED" if show_revoked else "")]
    for row in rows:
        line = (
            f"{row['prefix']:<13} {row['name'][:24]:<24} {row['role']:<9} {row['created'][:16]:<17} "
            f"{row['createdBy'][:16]:<16} {(row['lastUsed'] or 'never')[:16]:<17}"
        )
        lines.append(line + (f" {(row['revoked'] or '-')[:16]}" if show_revoked else ""))
    return "\n".join(lines)
