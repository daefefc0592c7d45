"""With PERDURA_READ_ONLY=true no URL of the server changes anything: every route is walked
with POST, PUT, PATCH and DELETE, as an admin in the console and with an admin API key, with
bodies that would change things, and every table is compared before and after. The same walk
without the setting changes the database, so the walk is one that would notice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from entities import services as entity_services
from orchestrations import services
from orchestrations.access import apikeys
from orchestrations.engine import EntityId
from orchestrations.models import Approval, HistoryRow
from orchestrations.worker.loop import drain_all
from tests.consoleapp.conftest import completed_instance, failed_instance, running_instance

pytestmark = pytest.mark.django_db

METHODS = ("post", "put", "patch", "delete")
#: Rows whose changes are bookkeeping of the request itself, not a change anybody asked for:
#: the session of the logged-in admin, when a key was last used (refreshed once a minute), and
#: the metrics, which count the refused requests too.
IGNORED = {
    "sessions.session": None,
    "consoleapp.apikey": {"last_used_at"},
    "auth.user": {"last_login"},
    "orchestrations.metrictotal": None,
    "orchestrations.metricsample": None,
}
#: Form fields that make each console action do its work, were it allowed.
FORM = {
    "event_name": "approval",
    "data": '"yes"',
    "reason": "walked",
    "name": "echo_orchestrator",
    "input": '"walk"',
    "instance_id": "walked-new",
    "new_instance_id": "on",
    "decision": "approve",
    "comment": "walked",
    "action": "terminate",
    "scope": "filtered",
    "filter": "",
    "confirmed_count": "",
    "key": "k1",
    "operation": "add",
    "username": "walker",
    "password": "a-long-password-walked-9",
    "role": "admin",
    "roles": "admin",
    "queue": "tests-queues-echo",
    "message": "walked",
}


def database() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, bookkeeping columns aside."""
    rows = {}
    for model in apps.get_models():
        if not model._meta.managed:
            continue  # No table (RolePermissions).
        label = model._meta.label_lower
        if label in IGNORED and IGNORED[label] is None:
            continue
        ignored = IGNORED.get(label) or set()
        rows[label] = [
            {key: value for key, value in row.items() if key not in ignored}
            for row in model.objects.order_by("pk").values()
        ]
    return rows


@pytest.fixture
def world(settings) -> dict[str, str]:
    """Something of everything for the routes to act on: instances in each state, an approval,
    an entity, an activity run, an API key, a user."""
    running = running_instance("walk-running")
    completed = completed_instance("walk-done")
    failed = failed_instance("walk-failed")
    services.start("approve_shipment", {"order_id": 1, "items": ["book"]}, instance_id="walk-approval")
    entity_services.signal(EntityId("counter", "k1"), "add", 1)
    drain_all()
    services.suspend(running, "to have one suspended")
    drain_all()
    admin = User.objects.create_superuser("walk-admin")
    _, key = apikeys.create("walk key", "admin")
    event = HistoryRow.objects.filter(instance_id=completed).order_by("sequence").first()
    return {
        "instance_id": running,
        "completed": completed,
        "failed": failed,
        "event_id": str(event.pk),
        "part": "input",
        "approval_id": str(Approval.objects.get().pk),
        "entity_id": "@counter@k1",
        "entity_name": "counter",
        "entity_key": "k1",
        "invocation_id": "1",
        "prefix": key[: apikeys.PREFIX_LENGTH],
        "user_id": str(admin.pk),
        "function_name": "echo_orchestrator",
        "event_name": "approval",
        "path_key": key,
        "key": key,
        "report": "sales",
        "ready_at_ms": "0",
        "queue_name": "tests-queues-echo",
        # Under the HTTP functions' prefix, a path no function claims: the walk checks Perdura's
        # own routes (whether user functions run on a read-only server is their app's business).
        "path": "httptest/nothing",
        # A timer schedule and what to do to it.
        "name": "timers_with_output",
        "action": "run",
    }


def routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, list[str]]]:
    """Every route as (template, parameter names); a template holds ``{name}`` placeholders."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        template, names = _template(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from ((prefix + template + t, names + n) for t, n in routes(entry.url_patterns, ""))
        elif isinstance(entry, URLPattern):
            yield prefix + template, names


def _template(pattern) -> tuple[str, list[str]]:
    if isinstance(pattern, RoutePattern):
        route = str(pattern._route)
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), re.findall(r"<(?:\w+:)?(\w+)>", route)
    assert isinstance(pattern, RegexPattern), pattern
    regex = pattern._regex
    names = re.findall(r"\(\?P<(\w+)>", regex)
    template = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"{\1}", regex)
    template = template.replace("^", "").replace("\\Z", "").replace("/?", "/").replace("\\.", ".")
    # The HTTP functions' patterns: a prefix in any letter case, then an optional rest.
    template = re.sub(r"\[(\w)\w\]", r"\1", template).replace("[\\s\\S]*", "").replace("(?:/", "/").replace(")?", "")
    return template or "no-such-route/", names


def concrete(template: str, names: list[str], world: dict[str, str], instance_id: str) -> str:
    values = {**world, "instance_id": instance_id}
    missing = [name for name in names if name not in values]
    assert not missing, f"the walk does not know what to put for {missing} in {template!r}: add it to world()"
    return "/" + template.format(**values)


def walk(world: dict[str, str]) -> int:
    """Send every method to every route for each instance; return how many requests went."""
    console = Client()
    console.force_login(User.objects.get(username="walk-admin"))
    api_headers = {"x-functions-key": world["key"]}
    sent = 0
    # The API first (the console revokes its key), logging out last.
    order = sorted(set((t, tuple(n)) for t, n in routes()), key=lambda r: (not _is_api(r[0]), "log" in r[0], r[0]))
    for template, names in order:
        targets = [world["instance_id"], world["completed"], world["failed"]] if "instance_id" in names else [None]
        for instance_id in targets:
            path = concrete(template, list(names), world, instance_id or world["instance_id"])
            is_api = _is_api(template)
            for method in METHODS:
                if is_api:
                    getattr(Client(), method)(
                        path, '{"walk": true}', content_type="application/json", headers=api_headers
                    )
                elif method == "post":
                    console.post(path, FORM)
                else:
                    getattr(console, method)(path)
                sent += 1
    return sent


def _is_api(template: str) -> bool:
    return template.startswith(("runtime/", "api/", "admin/"))


def test_a_read_only_server_changes_nothing_through_any_route(settings, world):
    settings.PERDURA_READ_ONLY = True
    before = database()

    sent = walk(world)
    drain_all()

    assert sent > 300
    after = database()
    changed = [label for label in before if before[label] != after[label]]
    assert not changed, f"read-only, yet these tables changed: {changed}"


def test_the_same_walk_changes_the_database_when_writes_are_allowed(settings, world):
    """The walk's requests are ones that change things: without the setting, they do."""
    settings.PERDURA_READ_ONLY = False
    before = database()

    walk(world)
    drain_all()

    after = database()
    changed = {label for label in before if before[label] != after[label]}
    assert {"orchestrations.instance", "consoleapp.auditlogentry", "auth.user", "consoleapp.apikey"} <= changed
