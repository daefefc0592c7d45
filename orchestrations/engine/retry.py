"""Retry policies for activity and sub-orchestration calls, with Azure's parameter names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orchestrations.engine.failures import FailureDetails


@dataclass(frozen=True)
class RetryOptions:
    """How to retry a failed call: wait ``first_retry_interval_in_milliseconds``, then each
    wait ``backoff_coefficient`` times longer, at most ``max_retry_interval_in_milliseconds``;
    give up after ``max_number_of_attempts`` attempts in all, once ``retry_timeout_in_milliseconds``
    has passed since the first attempt, or at once for a ``non_retryable_error_types`` error."""

    first_retry_interval_in_milliseconds: int
    max_number_of_attempts: int
    backoff_coefficient: float = 1.0
    max_retry_interval_in_milliseconds: int | None = None
    retry_timeout_in_milliseconds: int | None = None
    non_retryable_error_types: Iterable[type[BaseException] | str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.first_retry_interval_in_milliseconds <= 0:
            raise ValueError("first_retry_interval_in_milliseconds must be greater than 0")
        if self.max_number_of_attempts < 1:
            raise ValueError("max_number_of_attempts must be at least 1")
        if self.backoff_coefficient < 1:
            raise ValueError("backoff_coefficient must be at least 1")
        object.__setattr__(self, "non_retryable_error_types", tuple(self.non_retryable_error_types))

    def delay_before_attempt(self, attempt: int) -> timedelta:
        """The wait before attempt number ``attempt`` (the second attempt waits the first interval)."""
        milliseconds = self.first_retry_interval_in_milliseconds * self.backoff_coefficient ** (attempt - 2)
        if self.max_retry_interval_in_milliseconds is not None:
            milliseconds = min(milliseconds, self.max_retry_interval_in_milliseconds)
        return timedelta(milliseconds=milliseconds)

    def is_non_retryable(self, failure: FailureDetails) -> bool:
        return any(failure.is_caused_by(error_type) for error_type in self.non_retryable_error_types)

    def is_past_timeout(self, first_attempt_at: datetime, failed_at: datetime) -> bool:
        """Whether a failure at ``failed_at`` comes too late to retry. As in the Durable Task
        Framework, the next wait does not count: an early failure is retried even if the
        retry will start after the timeout."""
        if self.retry_timeout_in_milliseconds is None:
            return False
        return failed_at - first_attempt_at >= timedelta(milliseconds=self.retry_timeout_in_milliseconds)
