"""services.query: filters and keyset paging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orchestrations import services
from orchestrations.models import Instance
from tests.orchestrations.helpers import run_to_end

pytestmark = pytest.mark.django_db


def ids(page: services.QueryPage) -> list[str]:
    return [instance.instance_id for instance in page.instances]


def start_at(instance_id: str, created_at, name: str = "echo_orchestrator") -> str:
    services.start(name, instance_id=instance_id)
    Instance.objects.filter(pk=instance_id).update(created_at=created_at)
    return instance_id


def all_pages(**filters) -> list[list[str]]:
    pages, token = [], None
    while True:
        page = services.query(continuation_token=token, **filters)
        pages.append(ids(page))
        token = page.continuation_token
        if token is None:
            return pages


def test_query_lists_instances_newest_first():
    base = timezone.now()
    start_at("old", base - timedelta(hours=2))
    start_at("new", base)
    start_at("middle", base - timedelta(hours=1))

    page = services.query()

    assert ids(page) == ["new", "middle", "old"]
    assert page.continuation_token is None


def test_paging_through_25_instances_by_10_returns_each_once_in_order():
    base = timezone.now().replace(microsecond=0)
    # Groups of three share a creation time, whole seconds included: ties are broken by id.
    expected = [start_at(f"i-{n:02d}", base - timedelta(seconds=n // 3)) for n in range(25)]

    pages = all_pages(page_size=10)

    assert [len(page) for page in pages] == [10, 10, 5]
    assert [instance_id for page in pages for instance_id in page] == expected


def test_paging_an_exact_multiple_of_the_page_size_ends_without_an_empty_page():
    base = timezone.now()
    for n in range(20):
        start_at(f"i-{n:02d}", base - timedelta(seconds=n))

    pages = all_pages(page_size=10)

    assert [len(page) for page in pages] == [10, 10]


def test_paging_keeps_its_place_when_newer_instances_arrive():
    base = timezone.now() - timedelta(minutes=1)
    for n in range(15):
        start_at(f"i-{n:02d}", base - timedelta(seconds=n))
    first = services.query(page_size=10)

    start_at("newcomer", timezone.now())
    second = services.query(page_size=10, continuation_token=first.continuation_token)

    assert ids(second) == [f"i-{n:02d}" for n in range(10, 15)]


def test_paging_combines_with_filters():
    base = timezone.now()
    for n in range(12):
        start_at(f"echo-{n:02d}", base - timedelta(seconds=n))
        start_at(f"wait-{n:02d}", base - timedelta(seconds=n), name="wait_for_approval")

    pages = all_pages(page_size=5, name="wait_for_approval")

    assert [instance_id for page in pages for instance_id in page] == [f"wait-{n:02d}" for n in range(12)]


def test_query_filters_by_a_list_of_statuses():
    completed = run_to_end("echo_orchestrator", 1).pk
    failed = run_to_end("failing_orchestrator").pk
    pending = services.start("echo_orchestrator", 2)

    assert ids(services.query(statuses=["Completed"])) == [completed]
    assert set(ids(services.query(statuses=["Failed", "Pending"]))) == {failed, pending}
    assert ids(services.query(statuses=["Terminated"])) == []


def test_query_filters_by_orchestrator_name():
    services.start("echo_orchestrator", instance_id="echo")
    services.start("wait_for_approval", instance_id="wait")

    assert ids(services.query(name="wait_for_approval")) == ["wait"]


def test_query_filters_by_a_creation_time_range_with_both_ends_included():
    base = timezone.now().replace(microsecond=0)
    for hours in range(5):
        start_at(f"h{hours}", base - timedelta(hours=hours))

    page = services.query(created_from=base - timedelta(hours=3), created_to=base - timedelta(hours=1))

    assert ids(page) == ["h1", "h2", "h3"]


def test_query_filters_by_instance_id_prefix():
    for instance_id in ["order-1", "order-2", "orders", "invoice-1"]:
        services.start("echo_orchestrator", instance_id=instance_id)

    assert sorted(ids(services.query(instance_id_prefix="order-"))) == ["order-1", "order-2"]


def test_an_instance_id_prefix_is_taken_literally():
    for instance_id in ["a%b", "a_b", "axb"]:
        services.start("echo_orchestrator", instance_id=instance_id)

    assert ids(services.query(instance_id_prefix="a_")) == ["a_b"]
    assert ids(services.query(instance_id_prefix="a%")) == ["a%b"]


def test_an_instance_id_prefix_is_case_sensitive():
    services.start("echo_orchestrator", instance_id="Order-1")
    services.start("echo_orchestrator", instance_id="order-2")

    assert ids(services.query(instance_id_prefix="order-")) == ["order-2"]


@pytest.mark.parametrize("token", ["not base64 at all!", "bm9wZQ==", "WzFd", "WyJub3QgYSBkYXRlIiwgImlkIl0="])
def test_a_continuation_token_the_server_did_not_issue_is_refused(token):
    services.start("echo_orchestrator")

    with pytest.raises(services.BadInputError, match="the continuation token is not one this server issued"):
        services.query(continuation_token=token)


def test_an_unknown_status_is_refused_naming_the_valid_ones():
    with pytest.raises(services.BadInputError, match=r"unknown runtime status \['Done'\].*'Completed'"):
        services.query(statuses=["Completed", "Done"])


def test_a_page_size_below_one_is_refused():
    with pytest.raises(services.BadInputError, match="the page size must be at least 1"):
        services.query(page_size=0)


def test_a_page_ends_where_its_payloads_pass_the_bound_and_the_token_carries_on():
    """top=1000 of instances with megabytes of input each would be an answer of gigabytes."""
    big = "x" * 100_000
    for number in range(5):
        services.start("echo_orchestrator", big, instance_id=f"big-{number}")
    bound = 250_000

    pages, token = [], None
    while True:
        page = services.query(page_size=1000, continuation_token=token, max_page_bytes=bound)
        pages.append([instance.pk for instance in page.instances])
        token = page.continuation_token
        if token is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(instance_id for page in pages for instance_id in page) == [f"big-{number}" for number in range(5)]
    assert all(instance.input is not None for instance in services.query(page_size=2).instances)


def test_without_payloads_past_the_bound_a_page_is_as_long_as_asked():
    for number in range(5):
        services.start("echo_orchestrator", "small", instance_id=f"small-{number}")

    page = services.query(page_size=1000, max_page_bytes=250_000)

    assert (len(page.instances), page.continuation_token) == (5, None)


def test_one_instance_over_the_bound_still_comes_alone():
    services.start("echo_orchestrator", "x" * 300_000, instance_id="huge")
    services.start("echo_orchestrator", "small", instance_id="small")

    first = services.query(page_size=1000, max_page_bytes=250_000)

    assert len(first.instances) == 1
    assert first.continuation_token is not None
