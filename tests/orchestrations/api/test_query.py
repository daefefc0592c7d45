"""GET instances: filters, pages and the continuation-token header."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from orchestrations import services
from orchestrations.models import Instance
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.live import PREFIX

MORNING = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def instances(transactional_db):
    """Five instances an hour apart from 09:00: three completed (a1, a2, b1), two running (b2, c1)."""
    for hour, (instance_id, orchestrator) in enumerate(
        [
            ("a1", "echo_orchestrator"),
            ("a2", "echo_orchestrator"),
            ("b1", "echo_orchestrator"),
            ("b2", "wait_for_approval"),
            ("c1", "wait_for_approval"),
        ]
    ):
        services.start(orchestrator, {"n": hour}, instance_id=instance_id)
        Instance.objects.filter(pk=instance_id).update(created_at=MORNING + timedelta(hours=hour))
    settle()


def token(values) -> str:
    """A continuation token as this server writes them (base64 of a JSON list), with any values."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def ids(reply) -> list[str]:
    return [document["instanceId"] for document in reply.json]


def test_query_lists_status_documents_newest_first(api, instances):
    reply = api.get(f"{PREFIX}/instances")

    assert reply.status == 200
    assert ids(reply) == ["c1", "b2", "b1", "a2", "a1"]
    assert reply.json[0]["input"] == {"n": 4}
    assert "historyEvents" not in reply.json[0]
    assert reply.header("x-ms-continuation-token") is None


def test_query_with_a_trailing_slash_is_the_same(api, instances):
    assert ids(api.get(f"{PREFIX}/instances/")) == ["c1", "b2", "b1", "a2", "a1"]


def test_query_by_runtime_status_takes_a_comma_separated_list(api, instances):
    assert ids(api.get(f"{PREFIX}/instances", query={"runtimeStatus": "Running"})) == ["c1", "b2"]
    assert ids(api.get(f"{PREFIX}/instances", query={"runtimeStatus": "completed,Running"})) == [
        "c1",
        "b2",
        "b1",
        "a2",
        "a1",
    ]


def test_query_by_creation_time(api, instances):
    reply = api.get(
        f"{PREFIX}/instances",
        query={"createdTimeFrom": "2026-11-26T10:00:00Z", "createdTimeTo": "2026-11-26T12:00:00.0000000Z"},
    )

    assert ids(reply) == ["b2", "b1", "a2"]


def test_query_by_creation_time_with_offsets(api, instances):
    # 20:00+10:00 is 10:00Z; +19:42 is further east than PostgreSQL's offsets reach.
    reply = api.get(
        f"{PREFIX}/instances",
        query={"createdTimeFrom": "2026-11-26T20:00:00+10:00", "createdTimeTo": "2026-11-27T07:42:00+19:42"},
    )

    assert ids(reply) == ["b2", "b1", "a2"]


def test_query_by_instance_id_prefix(api, instances):
    assert ids(api.get(f"{PREFIX}/instances", query={"instanceIdPrefix": "b"})) == ["b2", "b1"]


def test_query_can_leave_the_inputs_out(api, instances):
    reply = api.get(f"{PREFIX}/instances", query={"showInput": "false"})

    assert all(document["input"] is None for document in reply.json)


def test_query_pages_with_top_and_the_continuation_token_header(api, instances):
    first = api.get(f"{PREFIX}/instances", query={"top": 2})
    token = first.header("x-ms-continuation-token")
    second = api.get(f"{PREFIX}/instances", query={"top": 2}, headers={"x-ms-continuation-token": token})
    third = api.get(
        f"{PREFIX}/instances",
        query={"top": 2},
        headers={"x-ms-continuation-token": second.header("x-ms-continuation-token")},
    )

    assert (ids(first), ids(second), ids(third)) == (["c1", "b2"], ["b1", "a2"], ["a1"])
    assert third.header("x-ms-continuation-token") is None


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ({"runtimeStatus": "Sleeping"}, {}, "unknown runtimeStatus Sleeping"),
        ({"createdTimeFrom": "yesterday"}, {}, "createdTimeFrom must be an ISO 8601 date or time"),
        ({"createdTimeTo": "0001-01-01T00:00:00+19:42"}, {}, "createdTimeTo must be an ISO 8601 date or time"),
        ({"top": "ten"}, {}, "top must be a whole number"),
        ({"top": 0}, {}, "top must be at least 1"),
        ({}, {"x-ms-continuation-token": "forged"}, "not one this server issued"),
        # The last moment of year 9999 at -23:59 is past what a datetime can hold in UTC.
        ({"createdTimeFrom": "9999-12-31T23:59:59.999999-23:59"}, {}, "createdTimeFrom must be an ISO 8601"),
        ({}, {"x-ms-continuation-token": token(["9999-12-31T23:59:59.999999-23:59", "a1"])}, "not one this server"),
        ({}, {"x-ms-continuation-token": token(["2026-11-26T09:00:00+00:00", 7])}, "not one this server issued"),
        ({}, {"x-ms-continuation-token": token({"a": 1})}, "not one this server issued"),
    ],
)
def test_query_with_a_malformed_filter_is_400(api, instances, query, headers, message):
    reply = api.get(f"{PREFIX}/instances", query=query, headers=headers)

    assert reply.status == 400
    assert message in reply.json["Message"]


def test_query_with_a_python_strftime_date_before_the_year_1000(api, instances):
    # What the official client sends for datetime.min on Linux.
    reply = api.get(f"{PREFIX}/instances", query={"createdTimeFrom": "1-01-01T00:00:00.000000Z"})

    assert len(reply.json) == 5


def test_query_needs_the_view_permission_only(live_server, viewer_key, instances):
    from tests.orchestrations.api.live import LiveApi

    assert LiveApi(live_server.url, viewer_key).get(f"{PREFIX}/instances").status == 200


def test_a_page_of_large_inputs_is_cut_by_size_with_a_continuation_token(api, settings):
    """The answer's size is bounded, not only its count: four of the largest payloads a page."""
    settings.PERDURA_MAX_PAYLOAD_BYTES = 32 * 1024
    for number in range(6):
        services.start("echo_orchestrator", "x" * 30_000, instance_id=f"large-{number}")

    first = api.get(f"{PREFIX}/instances", query={"top": 1000})
    token = first.header("x-ms-continuation-token")
    rest = api.get(f"{PREFIX}/instances", query={"top": 1000}, headers={"x-ms-continuation-token": token})

    assert (len(ids(first)), len(ids(rest))) == (4, 2)
    assert len(first.text) < 4 * 32 * 1024 + 10_000
    assert sorted(ids(first) + ids(rest)) == [f"large-{number}" for number in range(6)]
