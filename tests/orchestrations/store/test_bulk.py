"""orchestrations.store.bulk, the written-out SQL of the worker's hot paths: what it writes and reads
back matches the ORM's values exactly, also for values that look like SQL or placeholders, for
a few rows (a parameter per value) and for many (one array per column), and several statements
sent together come back each with its own result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orchestrations.models import HistoryRow, Message
from orchestrations.store import bulk

pytestmark = pytest.mark.django_db

AWKWARD = [
    "plain",
    "50% off; %s and %(name)s and %%",
    'it\'s "quoted" \\ back\\slashed',
    "'); DROP TABLE orchestrations_message; --",
    "ünïcødé ✓ 漢字",
    "",
]
WHEN = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)


def events(count: int, instance_id: str = "bulk") -> list[HistoryRow]:
    return [
        HistoryRow(
            instance_id=instance_id,
            execution_id="e1",
            sequence=number,
            event_type="TaskCompleted",
            timestamp=WHEN + timedelta(seconds=number),
            task_id=number if number % 2 else None,
            name=AWKWARD[number % len(AWKWARD)],
            data=AWKWARD[(number + 1) % len(AWKWARD)] if number % 3 else None,
            details={"text": AWKWARD[number % len(AWKWARD)], "number": number, "nested": [1, None, "%s"]},
        )
        for number in range(count)
    ]


def as_stored(rows: list[HistoryRow]) -> list[tuple]:
    return [(r.sequence, r.timestamp, r.task_id, r.name, r.data, r.details) for r in rows]


@pytest.mark.parametrize("count", [1, 3, bulk.ARRAY_ROWS, 30])
def test_inserted_rows_read_back_through_the_orm_unchanged(count):
    written = bulk.insert_rows(HistoryRow, events(count))

    if bulk.has_returning():
        assert sorted(event.pk for event in written) == sorted(HistoryRow.objects.values_list("pk", flat=True))
    assert as_stored(list(HistoryRow.objects.order_by("sequence"))) == as_stored(events(count))


@pytest.mark.parametrize("count", [2, bulk.ARRAY_ROWS + 1])
def test_updates_write_each_row_its_own_values_and_a_where_limits_them(count):
    bulk.insert_rows(HistoryRow, events(count))
    rows = list(HistoryRow.objects.order_by("sequence"))
    for row in rows:
        row.data = f"{row.sequence}: 100% %s '"
        row.details = {"changed": row.sequence}
    kept_aside = rows[0]
    HistoryRow.objects.filter(pk=kept_aside.pk).update(event_type="Other")

    [updated] = bulk.run_statements(
        [
            bulk.update_statement(
                HistoryRow, rows, ["data", "details"], where="event_type = %s", where_params=["TaskCompleted"]
            )
        ]
    )

    assert updated == count - 1
    stored = {row.sequence: (row.data, row.details) for row in HistoryRow.objects.all()}
    assert stored[0] == (events(count)[0].data, events(count)[0].details)
    assert all(stored[number] == (f"{number}: 100% %s '", {"changed": number}) for number in range(1, count))


def test_statements_sent_together_each_give_their_own_result_in_order():
    first, second = events(2, "a"), events(bulk.ARRAY_ROWS + 2, "b")

    results = bulk.run_statements(
        [
            bulk.insert_statement(HistoryRow, first),
            None,
            bulk.insert_statement(HistoryRow, second),
            bulk.select_statement(Message, [1, 2]),
            bulk.Statement("UPDATE orchestrations_historyrow SET name = %s WHERE instance_id = %s", ["50%", "b"]),
        ]
    )

    assert results[0] == 2
    assert results[1] is None
    assert results[2] == bulk.ARRAY_ROWS + 2
    assert results[3] == []
    assert results[4] == bulk.ARRAY_ROWS + 2
    assert set(HistoryRow.objects.filter(instance_id="b").values_list("name", flat=True)) == {"50%"}
    assert as_stored(list(HistoryRow.objects.filter(instance_id="a"))) == as_stored(first)


@pytest.mark.parametrize("count", [2, bulk.ARRAY_ROWS + 3])
def test_rows_fetched_by_key_are_model_objects_equal_to_the_orms(count):
    messages = [
        Message(
            instance_id=f"i{n}", event_type="EventRaised", event={"data": AWKWARD[n % len(AWKWARD)]}, visible_at=WHEN
        )
        for n in range(count)
    ]
    Message.objects.bulk_create(messages)
    keys = list(Message.objects.order_by("id").values_list("id", flat=True))

    fetched = bulk.fetch_rows(Message, keys[::-1])

    expected = list(Message.objects.order_by("id"))
    assert [m.pk for m in fetched] == keys
    assert [(m.instance_id, m.event, m.visible_at, m.created_at) for m in fetched] == [
        (m.instance_id, m.event, m.visible_at, m.created_at) for m in expected
    ]


def test_values_read_in_bulk_equal_the_orms_times_and_details_included():
    bulk.insert_rows(HistoryRow, [*events(5), *events(3, "other")])
    fields = ["instance_id", "sequence", "timestamp", "details", "data"]

    read = bulk.select_values(HistoryRow, fields, "instance_id = %s", ["bulk"], order_by="sequence")

    expected = list(HistoryRow.objects.filter(instance_id="bulk").order_by("sequence").values_list(*fields))
    assert read == expected
    assert all(row[2].utcoffset() == timedelta(0) for row in read)
    assert {row[1]: row[3] for row in read}[0] == events(1)[0].details
    assert read[0][3]["nested"] == [1, None, "%s"]
    HistoryRow.objects.filter(instance_id="bulk").update(details={})
    first, second = bulk.select_values(HistoryRow, ["details"], "instance_id = %s", ["bulk"], order_by="sequence")[:2]
    assert first == second == ({},) and first[0] is not second[0]  # Each its own dict.
