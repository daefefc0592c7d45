"""orchestrations.inspect: the read side of the console (sorted keyset pages, what an
instance waits for, its timeline)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from orchestrations import services
from orchestrations.models import HistoryRow, Instance
from orchestrations.services import inspection
from orchestrations.services.inspection import InstanceFilter
from orchestrations.store.wakeups import ORCHESTRATIONS
from orchestrations.worker.loop import drain, drain_all

pytestmark = pytest.mark.django_db


def all_pages(instance_filter: InstanceFilter, page_size: int) -> list[str]:
    seen, token = [], None
    while True:
        page = inspection.list_instances(instance_filter, page_size=page_size, after=token)
        seen += [instance.pk for instance in page.instances]
        token = page.next_token
        if token is None:
            return seen


@pytest.mark.parametrize("sort", sorted(inspection.SORTS))
def test_every_sort_pages_through_every_instance_once_in_order(sort):
    created = timezone.now() - timedelta(hours=1)
    for index in range(11):
        name = "echo_orchestrator" if index % 2 else "wait_for_approval"
        instance_id = services.start(name, None, instance_id=f"i-{index:02}")
        # Ties on the time and the name: the last sort key must break them.
        Instance.objects.filter(pk=instance_id).update(created_at=created + timedelta(seconds=index // 3))
    expected = list(
        Instance.objects.order_by(*[f"-{name}" if desc else name for name, desc in inspection.SORTS[sort]]).values_list(
            "pk", flat=True
        )
    )

    assert all_pages(InstanceFilter(sort=sort), page_size=3) == expected


def test_the_filter_reads_and_writes_the_same_url():
    query = QueryDict("status=Running&status=Failed&name=n&prefix=p&created=24h&custom_status=x&sort=name")

    instance_filter, errors = InstanceFilter.from_query(query)

    assert errors == []
    assert QueryDict(mutable=True, query_string="&".join(f"{k}={v}" for k, v in instance_filter.to_query())) == query


def test_a_replay_names_the_events_an_instance_waits_for():
    services.start("wait_for_approval", None, instance_id="w")
    drain_all()

    waiting = inspection.waiting_for(Instance.objects.get(pk="w"))

    assert waiting.events == ["approval"]


def test_an_event_already_raised_is_no_longer_waited_for():
    order = {"purchase_order": "PO-1", "amount": 1, "timeout_seconds": 60}
    services.start("approve_purchase_order", order, instance_id="po")
    drain_all()
    assert inspection.waiting_for(Instance.objects.get(pk="po")).events == ["Approval"]

    services.raise_event("po", "Approval", {"approved": True, "approver": "maria"})
    drain(ORCHESTRATIONS)  # The decision is in; its activity has not run yet.

    waiting = inspection.waiting_for(Instance.objects.get(pk="po"))
    assert waiting.events == []
    assert [(call.kind, call.name, call.cancelled) for call in waiting.calls] == [
        ("timer", "timer", True),  # Cancelled by the code once the decision won the race.
        ("activity", "record_purchase_decision", False),
    ]


def test_an_orchestrator_unknown_here_leaves_the_event_names_unknown():
    services.start("wait_for_approval", None, instance_id="w")
    drain_all()
    Instance.objects.filter(pk="w").update(name="not_registered_here")

    waiting = inspection.waiting_for(Instance.objects.get(pk="w"))

    assert waiting.events is None


def test_open_calls_come_from_the_history():
    order = {"purchase_order": "PO-1", "amount": 1, "timeout_seconds": 60}
    services.start("approve_purchase_order", order, instance_id="po")
    drain_all()

    calls = inspection.waiting_for(Instance.objects.get(pk="po")).calls

    assert [(call.kind, call.cancelled) for call in calls] == [("timer", False)]
    assert calls[0].due > timezone.now()


def test_the_timeline_places_calls_between_the_start_and_the_end():
    services.start("word_count_report", [{"title": "a", "text": "x y"}, {"title": "b", "text": "z"}], instance_id="wc")
    drain_all()
    instance = Instance.objects.get(pk="wc")

    timeline = inspection.timeline(instance, HistoryRow.objects.filter(instance_id="wc").order_by("sequence"))

    assert [(span.kind, span.label, span.outcome) for span in timeline.spans] == [
        ("activity", "count_words", "completed"),
        ("activity", "count_words", "completed"),
    ]
    for span in timeline.spans:
        assert 0 <= span.left <= 100
        assert 0 < span.width <= 100 - span.left + 0.001


def test_counts_stop_at_the_cap():
    for index in range(5):
        services.start("echo_orchestrator", None, instance_id=f"c{index}")

    assert inspection.count_capped(Instance.objects.all(), cap=3) == 4
    assert inspection.status_counts(InstanceFilter(), cap=10)["Pending"] == 5
