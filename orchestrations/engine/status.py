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

#: The commands on an instance, and the statuses in which each does something: the console
#: offers a command only there, and the services refuse rewind and purge elsewhere. (Raising
#: an event, terminating, suspending and resuming reach any unfinished instance, where the
#: engine takes what applies; the console offers suspend and resume only where they change it.)
COMMANDS: dict[str, frozenset[OrchestrationStatus]] = {
    "raise_event": ACTIVE_STATUSES,
    "suspend": frozenset({OrchestrationStatus.RUNNING, OrchestrationStatus.PENDING}),
    "resume": frozenset({OrchestrationStatus.SUSPENDED}),
    "terminate": ACTIVE_STATUSES,
    "rewind": frozenset({OrchestrationStatus.FAILED}),
    "restart": frozenset(OrchestrationStatus),
    "purge": TERMINAL_STATUSES,
}


def allows(status: str, command: str) -> bool:
    """Whether ``command`` applies to an instance in ``status``."""
    return status in COMMANDS[command]
