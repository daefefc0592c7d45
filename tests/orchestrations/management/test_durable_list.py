"""``durable list``: instances matching filters, as a table or as JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from orchestrations import services
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all
from tests.orchestrations.management.runner import durable


def start_at(orchestrator: str, instance_id: str, created_at: datetime) -> None:
    services.start(orchestrator, instance_id=instance_id)
    Instance.objects.filter(pk=instance_id).update(created_at=created_at, updated_at=created_at)


@pytest.fixture
def instances(db) -> None:
    """order-1 completed on the 26th, order-2 and approval-1 running on the 27th and 28th,
    order-3 failed on the 28th."""
    start_at("echo_orchestrator", "order-1", datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    start_at("wait_for_approval", "approval-1", datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    start_at("failing_orchestrator", "order-3", datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    drain_all()
    start_at("echo_orchestrator", "order-2", datetime(2026, 11, 28, 10, 0, tzinfo=UTC))


def listed_ids(*args: str) -> list[str]:
    outcome = durable("list", "--json", *args)
    assert outcome.exit_code == 0, outcome.stderr
    return [document["instanceId"] for document in outcome.json()]


def test_list_prints_a_table_newest_first(instances):
    outcome = durable("list")

    assert outcome.exit_code == 0
    lines = outcome.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["ID", "NAME", "STATUS", "CREATED (UTC)", "UPDATED (UTC)"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["order-2", "echo_orchestrator", "Pending"],
        ["order-3", "failing_orchestrator", "Failed"],
        ["approval-1", "wait_for_approval", "Running"],
        ["order-1", "echo_orchestrator", "Completed"],
    ]
    assert "2026-11-28 10:00:00" in lines[1]


def test_list_columns_line_up(instances):
    lines = durable("list").stdout.splitlines()

    status_column = lines[0].index("STATUS")
    assert {line[status_column - 2 : status_column] for line in lines} == {"  "}
    assert [line[status_column:].split()[0] for line in lines[1:]] == ["Pending", "Failed", "Running", "Completed"]


def test_list_json_prints_status_documents(instances):
    outcome = durable("list", "--json", "--name", "echo_orchestrator")

    documents = outcome.json()
    assert [document["instanceId"] for document in documents] == ["order-2", "order-1"]
    assert documents[1]["runtimeStatus"] == "Completed"
    assert documents[1]["createdTime"] == "2026-11-26T09:00:00Z"
    assert "historyEvents" not in documents[1]


def test_list_filters_by_status_given_repeated_or_comma_separated_in_any_case(instances):
    assert listed_ids("--status", "Running") == ["approval-1"]
    assert listed_ids("--status", "failed,completed") == ["order-3", "order-1"]
    assert listed_ids("--status", "Pending", "--status", "Failed") == ["order-2", "order-3"]


def test_list_filters_by_name_and_id_prefix(instances):
    assert listed_ids("--name", "wait_for_approval") == ["approval-1"]
    assert listed_ids("--prefix", "order-") == ["order-2", "order-3", "order-1"]
    assert listed_ids("--prefix", "order-", "--status", "Pending,Completed") == ["order-2", "order-1"]


def test_list_filters_by_creation_date_with_naive_dates_taken_as_utc(instances):
    assert listed_ids("--created-after", "2026-11-28") == ["order-2", "order-3"]
    assert listed_ids("--created-before", "2026-11-27T09:00:00") == ["approval-1", "order-1"]
    assert listed_ids("--created-after", "2026-11-27T00:00:00Z", "--created-before", "2026-11-28T09:30:00+00:00") == [
        "order-3",
        "approval-1",
    ]
    assert listed_ids("--created-after", "2026-11-28T11:00:00+02:00") == ["order-2", "order-3"]


def test_list_limit_shows_the_newest_and_says_more_match(instances):
    outcome = durable("list", "--json", "--limit", "2")

    assert [document["instanceId"] for document in outcome.json()] == ["order-2", "order-3"]
    assert "more instances match (raise --limit to see them)" in outcome.stderr


def test_list_says_nothing_on_stderr_when_all_matches_are_shown(instances):
    outcome = durable("list", "--limit", "4")

    assert len(outcome.stdout.splitlines()) == 5
    assert outcome.stderr == ""


def test_list_of_nothing_says_so(instances):
    assert durable("list", "--name", "nobody").stdout == "No instances match.\n"
    assert durable("list", "--json", "--name", "nobody").json() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "date", ["2026-13-01", "yesterday", "28/11/2026", "2026-11-28T25:00", "9999-12-31T23:59:59.999999-23:59"]
)
def test_list_with_an_invalid_date_exits_2(date):
    outcome = durable("list", "--created-after", date)

    assert outcome.exit_code == 2
    assert f"argument --created-after: {date!r} is not an ISO 8601 date or date-time" in outcome.stderr


@pytest.mark.django_db
def test_list_with_an_unknown_status_exits_2_naming_the_known_ones():
    outcome = durable("list", "--status", "Running,Sleeping")

    assert outcome.exit_code == 2
    assert "unknown runtime status ['Sleeping']" in outcome.stderr
    assert "'Suspended'" in outcome.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_list_with_a_limit_that_is_not_a_positive_number_exits_2(limit):
    outcome = durable("list", "--limit", limit)

    assert outcome.exit_code == 2
    assert "argument --limit" in outcome.stderr
