"""Running one activity: look it up, call it, serialize what it returns or raised."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from orchestrations.engine import FailureDetails
from orchestrations.engine.http import HTTP_ACTIVITY_NAME
from orchestrations.engine.serialization import dumps, loads

from . import builtins
from .registry import FunctionKind, registry


@dataclass(frozen=True)
class ActivityOutcome:
    result: str | None = None
    failure: FailureDetails | None = None


class PayloadTooLargeError(ValueError):
    pass


def check_payload_size(payload: str | None, what: str) -> None:
    limit = settings.PERDURA_MAX_PAYLOAD_BYTES
    if payload is not None and len(payload.encode()) > limit:
        raise PayloadTooLargeError(
            f"{what} is {len(payload.encode()):,} bytes, over the limit of {limit:,} (PERDURA_MAX_PAYLOAD_BYTES)"
        )


def is_known_activity(name: str) -> bool:
    return name == HTTP_ACTIVITY_NAME or registry.has(FunctionKind.ACTIVITY, name)


def run_activity(name: str, input_json: str | None) -> ActivityOutcome:
    try:
        func = builtins.http_activity if name == HTTP_ACTIVITY_NAME else registry.get(FunctionKind.ACTIVITY, name).func
        result = func(loads(input_json))
        serialized = dumps(result, f"the result of activity {name!r}")
        check_payload_size(serialized, f"the result of activity {name!r}")
    except Exception as error:  # An activity's failure, its result's too, is data for its orchestrator.
        return ActivityOutcome(failure=FailureDetails.from_exception(error))
    return ActivityOutcome(result=serialized)
