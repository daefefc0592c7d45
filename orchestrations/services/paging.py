"""Paging tokens: the keyset values of the last (or first) row of a page, handed to a client and
read back from it. Every list that pages (instances in the API, the CLI and the console,
entities, activity runs, the audit log) encodes and decodes them here.

A token is URL-safe base64 of a JSON list. It comes back from outside, so reading it checks
every value against the type its position must have, and any token this server could not have
issued is refused with BadTokenError, never an error from deeper down (a date that overflows
when converted to UTC, say).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from django.db.models import Q, QuerySet

#: What a token may hold at each position.
TokenValue = type[datetime] | type[str] | type[int]


class BadTokenError(ValueError):
    """A token this server did not issue (or issued for another order)."""


def encode(values: Sequence[datetime | str | int]) -> str:
    raw = [value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def decode(token: str, kinds: Sequence[TokenValue]) -> list[Any]:
    """The values of ``token``, one of each kind in ``kinds``; datetimes come back in UTC."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise BadTokenError("the continuation token is not one this server issued") from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise BadTokenError("the continuation token is not one this server issued")
    return [_value(value, kind) for value, kind in zip(values, kinds, strict=True)]


def decode_leniently(token: str | None, kinds: Sequence[TokenValue]) -> list[Any] | None:
    """``decode``, for the console's pages, where a link from elsewhere (or no token) simply
    lists from the start: None instead of BadTokenError."""
    if not token:
        return None
    try:
        return decode(token, kinds)
    except BadTokenError:
        return None


@dataclass(frozen=True)
class LogPage:
    rows: list[Any]
    #: The token of the page after this one, if any.
    next_token: str | None
    is_first: bool


def newest_first(queryset: QuerySet, time_field: str, token: str | None, size: int) -> LogPage:
    """A page of ``queryset``, newest ``time_field`` first (the primary key breaking ties),
    after the row ``token`` names (from the start for a token from elsewhere): keyset paging
    for the console's logs (the audit log, activity runs)."""
    after = decode_leniently(token, [datetime, int])
    if after is not None:
        moment, pk = after
        queryset = queryset.filter(Q(**{f"{time_field}__lt": moment}) | Q(**{time_field: moment, "pk__lt": pk}))
    rows = list(queryset.order_by(f"-{time_field}", "-pk")[: size + 1])
    next_token = None
    if len(rows) > size:
        last = rows[size - 1]
        next_token = encode([getattr(last, time_field), last.pk])
    return LogPage(rows[:size], next_token, after is None)


def _value(value: Any, kind: TokenValue) -> Any:
    if kind is datetime and isinstance(value, str):
        try:
            return parse_utc(value)
        except ValueError:
            raise BadTokenError("the continuation token is not one this server issued") from None
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise BadTokenError("the continuation token is not one this server issued")


def parse_utc(text: str, naive_zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 date or date-time from outside, in UTC; one without an offset is taken to
    be in ``naive_zone``. Raises ValueError for text that is not one, or that names a moment
    Python cannot hold in UTC (the last hours of year 9999 at a negative offset). Converting
    here matters: PostgreSQL refuses offsets past 15:59, and an OverflowError from deeper
    down would be a 500 instead of the client's error."""
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=naive_zone)
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of the range of dates this server can store") from None
