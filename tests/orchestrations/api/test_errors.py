"""Every answer of the API is JSON: unknown routes, wrong methods, oversized bodies, crashes."""

from __future__ import annotations

import logging

import pytest

from orchestrations import services
from tests.orchestrations.api.live import PREFIX


@pytest.mark.parametrize(
    "path",
    [
        f"{PREFIX}/nothing-here",
        f"{PREFIX}/instances/some-id/explode",
        f"{PREFIX}/",
        "/api/orchestrators/",
        f"{PREFIX}/sdk/pdk_whatever/nothing-here",
    ],
)
def test_unknown_routes_are_json_404(api, path):
    reply = api.get(path)

    assert reply.status == 404
    assert reply.header("Content-Type") == "application/json"
    assert "no API route matches" in reply.json["Message"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", f"{PREFIX}/orchestrators/echo_orchestrator", "POST"),
        ("PUT", f"{PREFIX}/instances/x", "DELETE, GET"),
        ("POST", f"{PREFIX}/instances", "DELETE, GET"),
        ("PATCH", f"{PREFIX}/entities/counter/k", "DELETE, GET, POST"),
        ("DELETE", f"{PREFIX}/entities/counter", "GET"),
    ],
)
def test_wrong_methods_are_json_405_with_allow(api, method, path, allowed):
    reply = api.call(method, path)

    assert reply.status == 405
    assert reply.header("Allow") == allowed
    assert method in reply.json["Message"]


def test_a_body_over_the_upload_limit_is_json_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    reply = api.start("echo_orchestrator", json_body="x" * 2000)

    assert reply.status == 413
    assert reply.json["Message"] == "the request body is too large"


def test_a_request_django_refuses_to_read_is_json_400(api):
    too_many_fields = {f"field{number}": "x" for number in range(1001)}

    reply = api.get(f"{PREFIX}/instances", query=too_many_fields)

    assert reply.status == 400
    assert "exceeded" in reply.json["Message"]


def test_a_crash_is_json_500_and_logged(api, monkeypatch, caplog):
    def crash(instance_id):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(services, "get", crash)
    caplog.set_level(logging.ERROR)

    reply = api.status("anything")

    assert reply.status == 500
    assert reply.json == {"Message": "Something went wrong while processing your request"}
    assert "the database fell over" in caplog.text
