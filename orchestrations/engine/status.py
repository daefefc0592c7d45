"""Runtime statuses of an orchestration instance, with the Durable Functions names."""

from __future__ import annotations

from enum import StrEnum


class OrchestrationStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    SUSPENDED = "Suspended"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        OrchestrationStatus.COMPLETED,
        OrchestrationStatus.FAILED,
        OrchestrationStatus.CANCELED,
        OrchestrationStatus.TERMINATED,
    }
)
#: The statuses of an instance that has not finished.
ACTIVE_STATUSES = frozenset(status for status in OrchestrationStatus if status not in TERMINAL_STATUSES)
