"""Work that fails: when a lost lease or a database briefly away is retried, and when work
failing for its own data is counted, so that what can never succeed stops (see
MAX_FAILED_ATTEMPTS) instead of being retried forever. Shared by the orchestration and entity
workers."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F, Model
from django.utils import timezone

from orchestrations.engine.failures import qualified_type_name, storable
from orchestrations.store import metrics

logger = logging.getLogger(__name__)

#: How long an instance whose episode raised waits before it is tried again.
RETRY_SECONDS = 5
#: How many episodes of one instance in a row may fail for their data (a bug, a value the
#: database refuses) before the instance fails with the reason and the messages it could not
#: take are set aside: at RETRY_SECONDS apart, about 20 seconds of trying.
MAX_FAILED_ATTEMPTS = 5
#: Errors that say nothing about the episode: another worker took it over, or the database was
#: briefly away or broke a deadlock. They are retried without counting.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


def count_failure(model: type[Model], key: str, worker_id: str, error: BaseException) -> int:
    """Keep a failing row (an instance or an entity) leased to this worker for a little while,
    so that work failing on every try is retried at a steady pace instead of in a tight loop;
    count the failure if it is the work's own (not TRANSIENT_ERRORS). Returns the count, 0 for
    a failure not counted."""
    counted = not isinstance(error, TRANSIENT_ERRORS)
    metrics.inc(metrics.CHECKPOINT_RETRIES, model._meta.model_name)
    fields: dict[str, Any] = {"lease_expires_at": timezone.now() + timedelta(seconds=RETRY_SECONDS)}
    if counted:
        fields |= {"failed_attempts": F("failed_attempts") + 1, "last_error": describe_error(error)}
    rows = model.objects.filter(pk=key, lease_owner=worker_id)
    try:
        with transaction.atomic():
            rows.update(**fields)
            return (rows.values_list("failed_attempts", flat=True).first() or 0) if counted else 0
    except DatabaseError:
        logger.exception("could not shorten the lease on %s; it expires by itself", key)
        return 0


def describe_error(error: BaseException) -> str:
    """An error as the console shows it, cut to a readable length and storable."""
    text = f"{qualified_type_name(type(error))}: {error}"
    return storable(text if len(text) <= MAX_ERROR_CHARACTERS else text[:MAX_ERROR_CHARACTERS] + "…")


#: The most of an error's text kept with a failing instance.
MAX_ERROR_CHARACTERS = 2000
