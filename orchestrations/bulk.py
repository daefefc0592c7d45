"""One UPDATE for many rows with different values, for the worker's hot paths.

Django's ``bulk_update`` builds a CASE expression per field and row, which costs more Python
time than the database spends on the statement. ``UPDATE ... FROM (VALUES ...)``, which
PostgreSQL and SQLite (3.33+) both understand, sends the same rows in a statement that is
cheap to build.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def update_rows(model: type[Model], objects: Sequence[Model], field_names: Sequence[str]) -> None:
    """Write ``field_names`` of each object to its row, in one statement."""
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    table = connection.ops.quote_name(model._meta.db_table)
    key = connection.ops.quote_name(model._meta.pk.column)
    columns = [connection.ops.quote_name(field.column) for field in fields]
    postgres = connection.vendor == "postgresql"
    if postgres:
        # The first row's casts give the VALUES list its column types.
        first = ", ".join(["%s", *(f"%s::{field.db_type(connection)}" for field in fields)])
        rest = ", ".join(["%s"] * (len(fields) + 1))
        values = ", ".join([f"({first})", *[f"({rest})"] * (len(objects) - 1)])
        names = ["v_key", *(f"v_{index}" for index in range(len(fields)))]
        source = f"(VALUES {values}) AS v({', '.join(names)})"
    else:
        values = ", ".join([f"({', '.join(['%s'] * (len(fields) + 1))})"] * len(objects))
        names = [f"column{index + 1}" for index in range(len(fields) + 1)]
        source = f"(VALUES {values}) AS v"
    assignments = ", ".join(f"{column} = v.{name}" for column, name in zip(columns, names[1:], strict=True))
    sql = f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.{key} = v.{names[0]}"
    params = []
    for obj in objects:
        params.append(obj.pk)
        params.extend(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
