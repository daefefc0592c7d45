"""Reading instances: one, its history, or a page of those matching a filter (keyset paging, each
page bounded in count and in payload size); and waiting for one to finish."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce, Length, Substr

from orchestrations.engine import (
    OrchestrationStatus,
)
from orchestrations.models import HistoryRow, Instance
from orchestrations.services import paging
from orchestrations.services.common import BadInputError, InstanceNotFoundError


def get_instance(instance_id: str, *, lock: bool = False) -> Instance:
    """The instance with this id (locked for the transaction with ``lock``), or InstanceNotFoundError."""
    queryset = Instance.objects.select_for_update() if lock else Instance.objects
    try:
        return queryset.get(pk=instance_id)
    except Instance.DoesNotExist:
        raise InstanceNotFoundError(f"no instance with id {instance_id!r}") from None


# Reading.


@dataclass(frozen=True)
class QueryPage:
    instances: list[Instance]
    continuation_token: str | None


def get(instance_id: str) -> Instance:
    return get_instance(instance_id)


def history(instance_id: str) -> list[HistoryRow]:
    return list(HistoryRow.objects.filter(instance_id=instance_id).order_by("sequence"))


def query(
    *,
    statuses: Iterable[str] | None = None,
    name: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    instance_id_prefix: str | None = None,
    page_size: int = 100,
    continuation_token: str | None = None,
    max_page_bytes: int | None = None,
) -> QueryPage:
    """Instances matching every given filter, newest first, a page at a time (keyset paging:
    the token names the last row seen, so pages stay fast and stable however deep).

    A page also ends where its payloads (inputs, outputs, custom statuses) pass
    ``max_page_bytes``, after at least one instance: a thousand instances of a few megabytes
    each would otherwise make one answer of gigabytes. The payloads are sized in the database
    and only the rows of the page are read whole."""
    if page_size < 1:
        raise BadInputError("the page size must be at least 1")
    queryset = query_filter(statuses, name, created_from, created_to, instance_id_prefix)
    if continuation_token:
        try:
            created_at, last_id = paging.decode(continuation_token, [datetime, str])
        except paging.BadTokenError as error:
            raise BadInputError(str(error)) from None
        queryset = queryset.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, instance_id__gt=last_id))
    ordered = queryset.order_by("-created_at", "instance_id")
    sized = ordered.values_list("instance_id", "created_at").annotate(
        size=sum((Coalesce(Length(column), 0) for column in PAYLOAD_COLUMNS), Value(0))
    )
    budget = max_page_bytes if max_page_bytes is not None else max_query_page_bytes()
    kept: list[tuple[str, datetime]] = []
    total = 0
    more = False
    for instance_id, created_at, size in sized[: page_size + 1]:
        if len(kept) == page_size or (kept and total + size > budget):
            more = True
            break
        kept.append((instance_id, created_at))
        total += size
    rows = {row.pk: row for row in Instance.objects.filter(pk__in=[instance_id for instance_id, _ in kept])}
    token = paging.encode([kept[-1][1], kept[-1][0]]) if more else None
    return QueryPage([rows[instance_id] for instance_id, _ in kept if instance_id in rows], token)


#: The columns whose size a page of instances is bounded by.
PAYLOAD_COLUMNS = ("input", "output", "custom_status")


def max_query_page_bytes() -> int:
    """How much payload one page of a query may carry: four of the largest payloads, so that
    an instance at the limit in its input and output (and status) still comes whole."""
    return 4 * settings.PERDURA_MAX_PAYLOAD_BYTES


def query_filter(
    statuses: Iterable[str] | None,
    name: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    instance_id_prefix: str | None,
    custom_status: str | None = None,
) -> QuerySet[Instance]:
    """The instances matching every filter given: the one instance filter of the API, the CLI
    and the console's list. An unknown status is BadInputError."""
    queryset = Instance.objects.all()
    if statuses:
        statuses = list(statuses)
        unknown = set(statuses) - {status.value for status in OrchestrationStatus}
        if unknown:
            raise BadInputError(
                f"unknown runtime status {sorted(unknown)}; use {[s.value for s in OrchestrationStatus]}"
            )
        queryset = queryset.filter(runtime_status__in=statuses)
    if name:
        queryset = queryset.filter(name=name)
    if created_from:
        queryset = queryset.filter(created_at__gte=created_from)
    if created_to:
        queryset = queryset.filter(created_at__lte=created_to)
    if instance_id_prefix:
        # LIKE finds the candidates (through the index); comparing the leading characters keeps
        # the match case-sensitive on SQLite too, whose LIKE ignores case.
        queryset = (
            queryset.filter(instance_id__startswith=instance_id_prefix)
            .alias(id_head=Substr("instance_id", 1, len(instance_id_prefix)))
            .filter(id_head=instance_id_prefix)
        )
    if custom_status:
        queryset = queryset.filter(custom_status__icontains=custom_status)
    return queryset


def wait_for_completion(instance_id: str, timeout: float, poll_interval: float = 0.1) -> Instance:
    """Wait until the instance finishes or ``timeout`` seconds pass; return it as it then is."""
    deadline = time.monotonic() + timeout
    while True:
        instance = get_instance(instance_id)
        if instance.is_terminal or time.monotonic() >= deadline:
            return instance
        time.sleep(min(poll_interval, max(deadline - time.monotonic(), 0)))
