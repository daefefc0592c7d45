"""Commands on function apps shared by the worker, the console and the management commands."""

from __future__ import annotations

from django.db import transaction

from functions.models import AppRecord, Function
from functions.registry import FunctionKind, registry
from functions.store.concurrency import sync_slots
from functions.worker.timers import sync_timers


@transaction.atomic
def sync_registry() -> None:
    """Make the AppRecord and Function rows reflect the registry; functions no longer
    registered are kept (their executions still refer to them) but marked unregistered. The
    concurrency slots follow the functions' ``max_concurrency``, and timer functions get their
    schedule rows."""
    seen: set[int] = set()
    for app in registry.apps.values():
        modules = sorted({function.module for function in app.functions.values()})
        app_row, _ = AppRecord.objects.update_or_create(name=app.name, defaults={"modules": modules})
        for function in app.functions.values():
            row, _ = Function.objects.update_or_create(
                kind=str(function.kind),
                name=function.name,
                defaults={"app": app_row, "module": function.module, "is_registered": True},
            )
            seen.add(row.pk)
    Function.objects.exclude(pk__in=seen).update(is_registered=False)
    sync_slots({name: limit for kind in FunctionKind for name, limit in registry.limits(kind).items()})
    sync_timers()
