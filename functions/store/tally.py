"""Counts per function and minute (``FunctionTally``): added to with one upsert per flush."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import connection, transaction

from functions.models import FunctionTally
from orchestrations.store.bulk import db_time

#: (function name, kind, minute) -> how many.
Counts = Mapping[tuple[str, str, datetime], int]


def add_counts(counts: Counts) -> None:
    """Add ``counts`` to the stored ones, creating the rows that are missing: one statement
    per row, ``INSERT ... ON CONFLICT DO UPDATE``, which PostgreSQL and SQLite both have."""
    if not counts:
        return
    table = connection.ops.quote_name(FunctionTally._meta.db_table)
    sql = (
        f"INSERT INTO {table} (function_name, kind, minute, count) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT (function_name, kind, minute) DO UPDATE SET count = {table}.count + excluded.count"
    )
    rows = [(name, kind, db_time(minute), count) for (name, kind, minute), count in sorted(counts.items())]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def prune_tallies(cutoff: datetime) -> int:
    """Delete the counts of minutes before ``cutoff`` (few rows: one per function and minute)."""
    deleted, _ = FunctionTally.objects.filter(minute__lt=cutoff).delete()
    return deleted
