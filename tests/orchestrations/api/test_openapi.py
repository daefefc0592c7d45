"""The OpenAPI document: served, committed, and in step with the routes."""

from __future__ import annotations

import json

from orchestrations.api import openapi
from tests.conftest import REPO
from tests.orchestrations.api.live import PREFIX

COMMITTED = REPO / "docs" / "openapi.json"


def test_the_served_document_is_the_committed_one(anonymous):
    reply = anonymous.get(f"{PREFIX}/openapi.json")

    assert reply.status == 200
    assert reply.json == json.loads(COMMITTED.read_text())


def test_the_committed_file_is_the_generated_text():
    assert COMMITTED.read_text() == openapi.document_text(), (
        "docs/openapi.json is stale: run `.venv/bin/python -m orchestrations.api.openapi > docs/openapi.json`"
    )


def test_the_document_covers_every_route_and_method(anonymous):
    documented = {
        (method.upper(), path) for path, operations in openapi.document()["paths"].items() for method in operations
    }

    assert documented == {
        ("POST", f"{PREFIX}/orchestrators/{{functionName}}"),
        ("POST", f"{PREFIX}/orchestrators/{{functionName}}/{{instanceId}}"),
        ("POST", "/api/orchestrators/{functionName}"),
        ("POST", "/api/orchestrators/{functionName}/{instanceId}"),
        ("GET", f"{PREFIX}/instances"),
        ("DELETE", f"{PREFIX}/instances"),
        ("GET", f"{PREFIX}/instances/{{instanceId}}"),
        ("DELETE", f"{PREFIX}/instances/{{instanceId}}"),
        ("POST", f"{PREFIX}/instances/{{instanceId}}/raiseEvent/{{eventName}}"),
        ("POST", f"{PREFIX}/instances/{{instanceId}}/terminate"),
        ("POST", f"{PREFIX}/instances/{{instanceId}}/suspend"),
        ("POST", f"{PREFIX}/instances/{{instanceId}}/resume"),
        ("POST", f"{PREFIX}/instances/{{instanceId}}/rewind"),
        ("POST", f"{PREFIX}/instances/{{instanceId}}/restart"),
        ("GET", f"{PREFIX}/entities"),
        ("GET", f"{PREFIX}/entities/{{entityName}}"),
        ("GET", f"{PREFIX}/entities/{{entityName}}/{{entityKey}}"),
        ("POST", f"{PREFIX}/entities/{{entityName}}/{{entityKey}}"),
        ("DELETE", f"{PREFIX}/entities/{{entityName}}/{{entityKey}}"),
        ("GET", f"{PREFIX}/openapi.json"),
    }
    for method, path in documented:
        concrete = path.format(functionName="f", instanceId="i", eventName="e", entityName="n", entityKey="k")
        reply = anonymous.call(method, concrete)
        assert reply.status != 404 or "no API route" not in reply.json["Message"], f"{method} {path} is not routed"
        assert reply.status != 405, f"{method} {path} is not allowed"
