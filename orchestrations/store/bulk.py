"""Plain SQL for the worker's hot paths: reading, locking, inserting, updating and deleting
many rows in one statement each.

The ORM costs more Python time per statement than the database spends on it (about a
millisecond to build a query on a 2-core machine, against a fifth of that for the same
statement written out), and a step of a chain of activities runs several statements. These
helpers write the same SQL Django would, from the model's own field definitions, and convert
values with the fields' own methods, so that models and migrations stay the one source of
truth. Statements are cached per model and shape.

On PostgreSQL a statement for many rows takes each column's values as one array (``unnest``),
so its text and parameter count do not grow with the number of rows: the driver parses a
statement's text for its parameters on every call, and for a batch of fifty episodes that
parsing was the largest single cost of a checkpoint. For a few rows, a parameter per value is
cheaper still. SQLite takes ``UPDATE ... FROM (VALUES ...)`` and ``RETURNING``
from 3.33 and 3.35; an older SQLite gets the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from django.db import connection, models
from django.db.models import Field, Model
from psycopg.types.datetime import TimestamptzLoader

M = TypeVar("M", bound=Model)


@dataclass
class Statement:
    """One SQL statement and its parameters; ``returns_rows`` if its rows are wanted."""

    sql: str
    params: list[Any]
    returns_rows: bool = False


def run_statements(statements: Sequence[Statement | None]) -> list[Any]:
    """Run the statements in order, on PostgreSQL in one round trip; return each one's rows
    (if it returns rows) or its row count. ``None`` entries are skipped and give ``None``."""
    todo = [statement for statement in statements if statement is not None]
    results: list[Any] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and any(statement.returns_rows for statement in todo):
            _read_times_in_c(cursor.cursor)
        if len(todo) > 1 and _sends_together(cursor):
            # psycopg's client-side binding sends several statements as one query. Each is
            # bound on its own: psycopg caches the parse of a statement of up to 4 kB and 50
            # parameters, and the batch as a whole is usually past that (half the binding cost).
            cursor.execute("; ".join(cursor.cursor.mogrify(s.sql, s.params) for s in todo))
            for index, statement in enumerate(todo):
                if index:
                    cursor.nextset()
                results.append(cursor.fetchall() if statement.returns_rows else cursor.rowcount)
        else:
            for statement in todo:
                cursor.execute(statement.sql, statement.params)
                results.append(cursor.fetchall() if statement.returns_rows else cursor.rowcount)
    found = iter(results)
    return [None if statement is None else next(found) for statement in statements]


def _read_times_in_c(cursor: Any) -> None:
    """Have this cursor read ``timestamptz`` values with psycopg's own loader, which its binary
    package implements in C: Django's subclass of it (which, with USE_TZ on as Perdura's
    settings have it, only sets the time zone the session already has, UTC) runs the Python
    one, 6.5 us a value against 1 (a 2,000-event history has 2,000 of them). The values are
    the same instants, in UTC."""
    cursor.adapters.register_loader("timestamptz", TimestamptzLoader)


def _sends_together(cursor: Any) -> bool:
    if connection.vendor != "postgresql":
        return False
    return isinstance(cursor.cursor, psycopg.ClientCursor)


def update_rows(model: type[Model], objects: Sequence[Model], field_names: Sequence[str]) -> None:
    """Write ``field_names`` of each object to its row, in one statement."""
    if objects:
        run_statements([update_statement(model, objects, field_names)])


def update_statement(
    model: type[Model],
    objects: Sequence[Model],
    field_names: Sequence[str],
    *,
    where: str = "",
    where_params: Sequence[Any] = (),
) -> Statement | None:
    """The UPDATE of ``update_rows``; ``where`` (an SQL condition on the table's columns, with
    ``where_params``) limits it to the rows that still satisfy it: its row count tells how many."""
    if not objects:
        return None
    vendor = connection.vendor
    fields = [model._meta.get_field(name) for name in field_names]
    if _as_arrays(objects):
        params: list[Any] = [[obj.pk for obj in objects], *_columns(vendor, fields, objects)]
        sql = _update_sql(vendor, model, tuple(field_names), 0)
    else:
        readers = [_value_reader(vendor, field) for field in fields]
        params = []
        for obj in objects:
            params.append(obj.pk)
            params.extend(read(obj) for read in readers)
        sql = _update_sql(vendor, model, tuple(field_names), len(objects))
    if where:
        sql, params = f"{sql} AND ({where})", [*params, *where_params]
    return Statement(sql, params)


@lru_cache(maxsize=512)
def _update_sql(vendor: str, model: type[Model], field_names: tuple[str, ...], rows: int) -> str:
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    names = ["v_key", *(f"v_{index}" for index in range(len(fields)))]
    if rows == 0:  # PostgreSQL, many rows: one array per column.
        arrays = ", ".join(f"%s::{_array_type(field)}[]" for field in [model._meta.pk, *fields])
        source = f"unnest({arrays}) AS v({', '.join(names)})"
        values = [f"v.{name}{_array_cast(field)}" for field, name in zip(fields, names[1:], strict=True)]
    elif vendor == "postgresql":
        # The first row's casts give the VALUES list its column types.
        first = ", ".join(["%s", *(f"%s::{field.db_type(connection)}" for field in fields)])
        rest = ", ".join(["%s"] * (len(fields) + 1))
        source = f"(VALUES {', '.join([f'({first})', *[f'({rest})'] * (rows - 1)])}) AS v({', '.join(names)})"
        values = [f"v.{name}" for name in names[1:]]
    else:
        rows_sql = ", ".join([f"({', '.join(['%s'] * (len(fields) + 1))})"] * rows)
        names = [f"column{index + 1}" for index in range(len(fields) + 1)]
        source = f"(VALUES {rows_sql}) AS v"
        values = [f"v.{name}" for name in names[1:]]
    assignments = ", ".join(f"{quote(field.column)} = {value}" for field, value in zip(fields, values, strict=True))
    return f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.{key} = v.{names[0]}"


def _columns(vendor: str, fields: Sequence[Field], objects: Sequence[Model]) -> list[list[Any]]:
    """The objects' values, one list per field, as PostgreSQL arrays of ``_array_type`` take them."""
    return [[read(obj) for obj in objects] for read in (_array_reader(vendor, field) for field in fields)]


def _array_type(field: Field) -> str:
    # JSON travels as text in an array and is cast back (an array of jsonb would need each
    # element wrapped by the driver).
    return "text" if isinstance(field, models.JSONField) else field.db_type(connection)


def _array_cast(field: Field) -> str:
    return "::jsonb" if isinstance(field, models.JSONField) else ""


@lru_cache(maxsize=256)
def _array_reader(vendor: str, field: Field) -> Callable[[Model], Any]:
    if isinstance(field, models.JSONField):
        attname, encoder = field.attname, field.encoder

        def read_json(obj: Model) -> str | None:
            value = getattr(obj, attname)
            return None if value is None else json.dumps(value, cls=encoder)

        return read_json
    return _value_reader(vendor, field)


#: Fields whose value goes to the database as it is (``get_db_prep_save`` returns it unchanged
#: for the str and int values the engine sets; None stays None).
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BigIntegerField)


@lru_cache(maxsize=256)
def _value_reader(vendor: str, field: Field) -> Callable[[Model], Any]:
    """Reads a field's value from an object to save, ready for the database: the field's own
    ``pre_save`` and ``get_db_prep_save``, skipped where they would return the value as it is."""
    attname = field.attname
    if isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
    # psycopg takes aware datetimes as they are; SQLite needs them as text.
    if type(field) in _PLAIN_FIELDS or (vendor == "postgresql" and type(field) is models.DateTimeField):
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.get_db_prep_save(getattr(obj, attname), connection)


def db_time(value: datetime) -> Any:
    """A datetime as a parameter of written-out SQL (SQLite keeps them as text)."""
    return connection.ops.adapt_datetimefield_value(value)


def has_returning() -> bool:
    """Whether the database takes ``RETURNING`` on INSERT and DELETE."""
    return connection.features.can_return_columns_from_insert


def insert_rows(model: type[M], objects: Sequence[M]) -> list[M]:
    """Insert the objects in one statement and set their primary keys."""
    if not objects:
        return list(objects)
    if not has_returning():
        return model.objects.bulk_create(list(objects))
    [rows] = run_statements([insert_statement(model, objects, returning=True)])
    return inserted(objects, rows)


def insert_statement(model: type[Model], objects: Sequence[Model], *, returning: bool = False) -> Statement | None:
    """The INSERT of these objects; with ``returning`` (which needs ``has_returning()``), it
    returns their new keys: give its rows to ``inserted``."""
    if not objects:
        return None
    meta = model._meta
    vendor = connection.vendor
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    returning = returning and meta.auto_field is not None
    if _as_arrays(objects):
        params = _columns(vendor, fields, objects)
        sql = _insert_sql(vendor, model, 0, returning)
    else:
        readers = [_value_reader(vendor, field) for field in fields]
        params = [read(obj) for obj in objects for read in readers]
        sql = _insert_sql(vendor, model, len(objects), returning)
    return Statement(sql, params, returns_rows=returning)


def inserted(objects: Sequence[M], rows: list[tuple] | int | None) -> list[M]:
    """Mark the objects as saved, with the keys an INSERT returned (if any)."""
    if isinstance(rows, list):
        for obj, (pk,) in zip(objects, rows, strict=True):
            obj.pk = pk
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objects)


@lru_cache(maxsize=512)
def _insert_sql(vendor: str, model: type[Model], rows: int, returning: bool) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    columns = ", ".join(quote(field.column) for field in fields)
    if rows == 0:  # PostgreSQL, many rows: one array per column.
        names = [f"v_{index}" for index in range(len(fields))]
        arrays = ", ".join(f"%s::{_array_type(field)}[]" for field in fields)
        values = ", ".join(f"{name}{_array_cast(field)}" for field, name in zip(fields, names, strict=True))
        source = f"SELECT {values} FROM unnest({arrays}) AS v({', '.join(names)})"
    else:
        row = f"({', '.join(['%s'] * len(fields))})"
        source = f"VALUES {', '.join([row] * rows)}"
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) {source}"
    return sql + (f" RETURNING {quote(meta.auto_field.column)}" if returning else "")


def fetch_rows(model: type[M], keys: Sequence[Any], *, lock: bool = False) -> list[M]:
    """The rows with these primary keys, in key order; with ``lock``, locked for update (on
    PostgreSQL; SQLite lets one writer in at a time anyway)."""
    if not keys:
        return []
    [rows] = run_statements([select_statement(model, keys, lock=lock)])
    return to_objects(model, rows)


def select_statement(model: type[Model], keys: Sequence[Any], *, lock: bool = False) -> Statement | None:
    """The SELECT of ``fetch_rows`` (give its rows to ``to_objects``)."""
    if not keys:
        return None
    lock = lock and connection.features.has_select_for_update
    count = 0 if _as_arrays(keys) else len(keys)
    return Statement(_select_sql(connection.vendor, model, count, lock), key_params(keys), returns_rows=True)


def to_objects(model: type[M], rows: list[tuple] | None) -> list[M]:
    attnames, converters = _row_reader(connection.vendor, model)
    objects = []
    for row in rows or []:
        values = [value if convert is None else convert(value) for value, convert in zip(row, converters, strict=True)]
        objects.append(model.from_db(connection.alias, attnames, values))
    return objects


@lru_cache(maxsize=512)
def _select_sql(vendor: str, model: type[Model], keys: int, lock: bool) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    key = quote(meta.pk.column)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {key} {in_keys(keys)} ORDER BY {key}"
    return sql + (" FOR UPDATE" if lock else "")


def in_keys(count: int) -> str:
    """``IN`` a list of ``count`` keys, as SQL (0: an array parameter, see ``key_params``)."""
    return "= ANY(%s)" if count == 0 else f"IN ({', '.join(['%s'] * count)})"


def key_params(keys: Sequence[Any]) -> list[Any]:
    """The parameters of ``in_keys(keys_count(keys))``."""
    return [list(keys)] if _as_arrays(keys) else list(keys)


def keys_count(keys: Sequence[Any]) -> int:
    """The count to give ``in_keys`` for these keys."""
    return 0 if _as_arrays(keys) else len(keys)


#: From this many rows on, PostgreSQL statements take one array per column: below it, a
#: statement with a parameter per value costs the driver and the server less.
ARRAY_ROWS = 8


def _as_arrays(rows: Sequence[Any]) -> bool:
    return connection.vendor == "postgresql" and len(rows) >= ARRAY_ROWS


@lru_cache(maxsize=64)
def _row_reader(vendor: str, model: type[Model]) -> tuple[list[str], list[Callable[[Any], Any] | None]]:
    """Each column's attribute name, and the function (the backend's and the field's database
    converters, as the ORM applies them) that turns what the driver returns into its value."""
    attnames, converters = [], []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        attnames.append(field.attname)
        converters.append(_chain(steps, column) if steps else None)
    return attnames, converters


def _chain(steps: list[Callable], column: Any) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        for step in steps:
            value = step(value, column, connection)
        return value

    if isinstance(column.target, models.JSONField):

        def convert_json(value: Any) -> Any:
            # Most history events' details are empty: no parse for those.
            return {} if value == "{}" else convert(value)

        return convert_json
    return convert


def delete_statement(
    model: type[Model], keys: Sequence[Any], *, where: str = "", where_params: Sequence[Any] = ()
) -> Statement | None:
    """Delete the rows with these primary keys (of them, those ``where``, an SQL condition with
    ``where_params``, also selects): its row count tells how many were."""
    if not keys:
        return None
    meta, quote = model._meta, connection.ops.quote_name
    sql = f"DELETE FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} {in_keys(keys_count(keys))}"
    if where:
        sql += f" AND ({where})"
    return Statement(sql, [*key_params(keys), *where_params])


def claim_rows(
    model: type[M],
    *,
    ready: str,
    ready_params: Sequence[Any],
    order_by: str,
    limit: int,
    assignments: str,
    assignment_params: Sequence[Any],
) -> list[M]:
    """Claim up to ``limit`` rows that are ``ready`` (an SQL condition), first by ``order_by``:
    set ``assignments`` on them and return them as they now are. On PostgreSQL rows another
    transaction has locked are skipped, so concurrent workers claim different rows; SQLite
    lets one writer in at a time. One statement where the database takes ``RETURNING``."""
    meta, quote = model._meta, connection.ops.quote_name
    table, key = quote(meta.db_table), quote(meta.pk.column)
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    chosen = f"SELECT {key} FROM {table} WHERE {ready} ORDER BY {order_by} LIMIT %s{skip_locked}"
    update = f"UPDATE {table} SET {assignments} WHERE {key} IN ({chosen})"
    params = [*assignment_params, *ready_params, limit]
    if has_returning():
        [rows] = run_statements([Statement(f"{update} RETURNING {columns}", params, returns_rows=True)])
        return sorted(to_objects(model, rows), key=lambda obj: obj.pk)
    with connection.cursor() as cursor:
        cursor.execute(chosen, [*ready_params, limit])
        keys = [row[0] for row in cursor.fetchall()]
        if not keys:
            return []
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE {key} {in_keys(len(keys))}", [*assignment_params, *keys]
        )
    return fetch_rows(model, keys)


def select_rows(model: type[M], where: str, params: Sequence[Any], *, order_by: str) -> list[M]:
    """The rows ``where`` (an SQL condition) selects, in ``order_by`` order."""
    meta, quote = model._meta, connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where} ORDER BY {order_by}"
    [rows] = run_statements([Statement(sql, list(params), returns_rows=True)])
    return to_objects(model, rows)


def select_values(
    model: type[Model], field_names: Sequence[str], where: str, params: Sequence[Any], *, order_by: str
) -> list[tuple]:
    """The values of ``field_names`` in the rows ``where`` selects, in ``order_by`` order, as
    tuples (no model objects: for reading many rows)."""
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in field_names]
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where} ORDER BY {order_by}"
    [rows] = run_statements([Statement(sql, list(params), returns_rows=True)])
    attnames, converters = _row_reader(connection.vendor, model)
    by_name = dict(zip(attnames, converters, strict=True))
    convert = [by_name[field.attname] for field in fields]
    if not any(convert):
        return rows
    return [
        tuple(value if step is None else step(value) for value, step in zip(row, convert, strict=True)) for row in rows
    ]
