"""Durable tasks: what orchestrator code yields and the engine completes from history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrations.engine.failures import FailureDetails, TaskFailedError
from orchestrations.engine.http import DurableHttpResponse

if TYPE_CHECKING:
    from orchestrations.engine.executor import Replay
    from orchestrations.engine.retry import RetryOptions


class Task:
    """A unit of durable work whose outcome arrives later, during this or a later episode."""

    def __init__(self) -> None:
        self._is_complete = False
        self._result: Any = None
        self._exception: BaseException | None = None
        self._parents: list[CompositeTask] = []

    @property
    def is_completed(self) -> bool:
        return self._is_complete

    @property
    def is_faulted(self) -> bool:
        return self._exception is not None

    @property
    def result(self) -> Any:
        return self._result

    @property
    def exception(self) -> BaseException | None:
        return self._exception

    def complete(self, result: Any) -> None:
        if self._is_complete:
            return
        self._is_complete = True
        self._result = result
        self._notify_parents()

    def fail(self, error: BaseException) -> None:
        if self._is_complete:
            return
        self._is_complete = True
        self._exception = error
        self._notify_parents()

    def _notify_parents(self) -> None:
        for parent in self._parents:
            parent.on_child_completed(self)


class CompletableTask(Task):
    """A task the engine completes from one history event matched by ``task_id``."""

    def __init__(self, task_id: int, description: str) -> None:
        super().__init__()
        self.task_id = task_id
        self.description = description

    def fail_from(self, details: FailureDetails) -> None:
        message = f"{self.description} failed: {details.error_type}: {details.message}"
        self.fail(TaskFailedError(message, details))


class TimerTask(CompletableTask):
    def __init__(self, task_id: int, fire_at: datetime) -> None:
        super().__init__(task_id, "create_timer()")
        self.fire_at = fire_at
        self.is_cancelled = False

    def cancel(self) -> None:
        """Stop waiting for the timer. A timer that has already fired cannot be cancelled."""
        if self.is_completed:
            raise ValueError("a timer that has completed cannot be cancelled")
        self.is_cancelled = True


class ExternalEventTask(Task):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class CompositeTask(Task):
    def __init__(self, children: Sequence[Task]) -> None:
        super().__init__()
        self.children = list(children)
        for child in self.children:
            if not isinstance(child, Task):
                raise TypeError(f"task_all and task_any take tasks, not {type(child).__name__}")
            child._parents.append(self)

    def on_child_completed(self, child: Task) -> None:
        raise NotImplementedError


class WhenAllTask(CompositeTask):
    """Completes with every child's result, in order; fails as soon as one child fails."""

    def __init__(self, children: Sequence[Task]) -> None:
        super().__init__(children)
        #: Children (counted once per place in the list) not completed yet: each tells its
        #: parents once per place when it completes. A count, not a scan of the children on
        #: every completion, which made a fan-in of N calls cost N^2 / 2 checks.
        self._waiting = sum(1 for child in self.children if not child.is_completed)
        failed = next((child for child in self.children if child.is_faulted), None)
        if failed is not None:
            self.fail(failed.exception)
        elif not self._waiting:
            self.complete([child.result for child in self.children])

    def on_child_completed(self, child: Task) -> None:
        self._waiting -= 1
        if child.is_faulted:
            self.fail(child.exception)
        elif not self._waiting:
            self.complete([c.result for c in self.children])


class WhenAnyTask(CompositeTask):
    """Completes with the first child to complete (the task itself, as in Durable Functions)."""

    def __init__(self, children: Sequence[Task]) -> None:
        if not children:
            raise ValueError("task_any needs at least one task")
        super().__init__(children)
        winner = next((child for child in self.children if child.is_completed), None)
        if winner is not None:
            self.complete(winner)

    def on_child_completed(self, child: Task) -> None:
        self.complete(child)


class ChainTask(CompositeTask):
    """A task that makes its durable calls one after another, deciding each next call from
    the outcome of the previous one."""

    def __init__(self, replay: Replay) -> None:
        super().__init__([])
        self._replay = replay
        self._waiting_for_timer = False

    def _watch(self, child: Task) -> None:
        child._parents.append(self)
        self.children.append(child)
        if child.is_completed:
            self.on_child_completed(child)


class RetryableTask(ChainTask):
    """An activity or sub-orchestration call retried on failure by a retry policy.

    Each attempt is a fresh call with its own sequence number; between attempts a durable
    timer waits out the back-off. All of it is recorded in history, so replay repeats it.
    """

    def __init__(self, replay: Replay, options: RetryOptions, schedule_attempt: Callable[[], Task]) -> None:
        super().__init__(replay)
        self._options = options
        self._schedule_attempt = schedule_attempt
        self._attempt = 1
        self._first_attempt_at = replay.current_utc_datetime
        self._watch(schedule_attempt())

    @property
    def attempts(self) -> int:
        """The attempts made so far, the first included."""
        return self._attempt

    def on_child_completed(self, child: Task) -> None:
        if self._waiting_for_timer:
            self._waiting_for_timer = False
            self._attempt += 1
            self._watch(self._schedule_attempt())
        elif not child.is_faulted:
            self.complete(child.result)
        else:
            self._on_attempt_failed(child.exception)

    def _on_attempt_failed(self, error: BaseException) -> None:
        details = error.details if isinstance(error, TaskFailedError) else None
        now = self._replay.current_utc_datetime
        delay = self._options.delay_before_attempt(self._attempt + 1)
        if (
            self._attempt >= self._options.max_number_of_attempts
            or (details is not None and self._options.is_non_retryable(details))
            or self._options.is_past_timeout(self._first_attempt_at, now)
        ):
            self.fail(error)
            return
        self._waiting_for_timer = True
        self._watch(self._replay.create_timer(now + delay))


class HttpTask(ChainTask):
    """``call_http``: one HTTP request as a built-in activity, then, while the answer is
    202 Accepted with a Location header, a durable timer and a GET of that location."""

    def __init__(self, replay: Replay, request: dict[str, Any], default_poll_seconds: float) -> None:
        super().__init__(replay)
        self._request = request
        self._default_poll_seconds = default_poll_seconds
        self._location: str | None = None
        self._watch(replay.call_builtin_http(request))

    def on_child_completed(self, child: Task) -> None:
        if child.is_faulted:
            self.fail(child.exception)
            return
        if self._waiting_for_timer:
            self._waiting_for_timer = False
            poll = {"method": "GET", "uri": self._location, "headers": self._request.get("headers") or {}}
            self._watch(self._replay.call_builtin_http(poll))
            return
        try:
            response = DurableHttpResponse.from_dict(child.result)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            # Not the built-in HTTP activity's answer: the call fails, the episode does not.
            details = FailureDetails.from_exception(error)
            self.fail(TaskFailedError(f"call_http got a malformed response: {error!r}", details))
            return
        location = response.header("Location")
        if response.status_code == 202 and location and self._request.get("asynchronous_patterns", True):
            self._location = location
            self._waiting_for_timer = True
            delay = timedelta(seconds=response.retry_after_seconds(self._default_poll_seconds))
            self._watch(self._replay.create_timer(self._replay.current_utc_datetime + delay))
            return
        self.complete(response)
