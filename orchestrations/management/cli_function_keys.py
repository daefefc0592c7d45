"""``durable function-key create|list|revoke``: keys for HTTP functions of auth level
``function``, for one function (``--function NAME``) or every one (``--host``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError, CommandParser

from functions.services import keys
from orchestrations.access.audit import Actor

ACTION = "function-key"
BAD_USAGE = 2


def add_parser(action: Callable[..., CommandParser], parser_class: type[CommandParser]) -> None:
    """Add the action through ``durable``'s own ``action(name, summary, description)``."""
    parser = action(
        ACTION,
        "Create, list or revoke function keys for HTTP functions",
        "A key opens one function (--function NAME) or every function (--host) of auth level function; "
        "it is shown once, when created.",
    )
    subcommands = parser.add_subparsers(
        dest="function_key_action", required=True, metavar="FUNCTION_KEY_ACTION", parser_class=parser_class
    )
    create = subcommands.add_parser("create", help="create a key and print it (shown this once only)")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--function", metavar="NAME", help="the HTTP function the key opens")
    owner.add_argument("--host", action="store_true", help="a host key: it opens every function")
    create.add_argument("--name", metavar="N", required=True, help="who or what will use it")
    key_list = subcommands.add_parser("list", help="list keys (never the keys themselves)")
    key_list.add_argument("--all", action="store_true", help="include revoked keys")
    key_list.add_argument("--json", action="store_true", help="print JSON, not a table")
    revoke = subcommands.add_parser("revoke", help="revoke a key: requests carrying it are refused")
    revoke.add_argument("prefix", metavar="PREFIX", help="the key's prefix (pfk_ and 8 hex digits)")


def changes_something(options: dict[str, Any]) -> bool:
    return options["function_key_action"] != "list"


def handle(options: dict[str, Any], write: Callable[[str], None], actor: Actor) -> None:
    try:
        _handle(options, write, actor)
    except keys.FunctionKeyError as error:
        raise CommandError(str(error), returncode=BAD_USAGE) from None


def _handle(options: dict[str, Any], write: Callable[[str], None], actor: Actor) -> None:
    action = options["function_key_action"]
    if action == "create":
        key, plain_key = keys.create(options["name"], "" if options["host"] else options["function"], actor=actor)
        opens = f"function {key.function_name}" if key.function_name else "every function (host key)"
        write(f"Created function key {key.prefix} ({key.name}, for {opens}). This is the only time it is shown:")
        write(plain_key)
        write("Send it as the x-functions-key header or the code query parameter.")
    elif action == "revoke":
        key = keys.revoke(options["prefix"], actor=actor)
        write(f"Revoked function key {key.prefix} ({key.name}).")
    else:
        rows = [
            {
                "prefix": key.prefix,
                "name": key.name,
                "function": key.function_name or None,
                "created": key.created_at.isoformat(),
                "createdBy": key.created_by,
                "revoked": key.revoked_at.isoformat() if key.revoked_at else None,
            }
            for key in keys.list_keys(include_revoked=options["all"])
        ]
        if options["json"]:
            write(json.dumps(rows, indent=2))
        elif not rows:
            write("No function keys.")
        else:
            for row in rows:
                state = f"  revoked {row['revoked'][:16]}" if row["revoked"] else ""
                write(f"{row['prefix']}  {row['function'] or '(host)':<30}  {row['name']}{state}")
