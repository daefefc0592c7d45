"""The orchestration context: the API orchestrator code is written against.

Names and parameters follow the Azure Functions Python SDK (``call_activity(name, input_)``,
``task_all``, ``continue_as_new``...), so porting an orchestrator is a change of imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrations.engine import actions as act
from orchestrations.engine.entities import EntityId, canonical_lock_order
from orchestrations.engine.ids import validate_instance_id
from orchestrations.engine.limits import MAX_EVENT_NAME_LENGTH, MAX_TITLE_LENGTH, check_name, check_text
from orchestrations.engine.retry import RetryOptions
from orchestrations.engine.serialization import dumps, loads
from orchestrations.engine.tasks import (
    CompletableTask,
    HttpTask,
    RetryableTask,
    Task,
    TimerTask,
    WhenAllTask,
    WhenAnyTask,
)

if TYPE_CHECKING:
    from orchestrations.engine.executor import Replay


class OrchestrationContext:
    def __init__(self, replay: Replay) -> None:
        self._replay = replay

    # What the orchestrator can read.

    @property
    def instance_id(self) -> str:
        return self._replay.instance_id

    @property
    def parent_instance_id(self) -> str | None:
        return self._replay.parent_instance_id

    @property
    def function_name(self) -> str | None:
        return self._replay.name

    @property
    def version(self) -> str | None:
        return self._replay.version

    @property
    def is_replaying(self) -> bool:
        return self._replay.is_replaying

    @property
    def current_utc_datetime(self) -> datetime:
        """The episode's time, recorded in history: the same on every replay."""
        return self._replay.current_utc_datetime

    def get_input(self) -> Any:
        return loads(self._replay.input)

    def new_uuid(self) -> str:
        """A UUID derived from the instance id and the episode's time: the same on every replay."""
        return self._replay.next_uuid()

    # Durable calls.

    def call_activity(self, name: str, input_: Any = None) -> Task:
        return self._schedule_activity(name, input_)

    def call_activity_with_retry(self, name: str, retry_options: RetryOptions, input_: Any = None) -> Task:
        _check_retry_options(retry_options)
        return RetryableTask(self._replay, retry_options, lambda: self._schedule_activity(name, input_))

    def call_sub_orchestrator(self, name: str, input_: Any = None, instance_id: str | None = None) -> Task:
        child_id = self._child_instance_id(instance_id)
        return self._schedule_sub_orchestration(name, input_, child_id)

    def call_sub_orchestrator_with_retry(
        self, name: str, retry_options: RetryOptions, input_: Any = None, instance_id: str | None = None
    ) -> Task:
        _check_retry_options(retry_options)
        # A child id given here is checked once and used by every attempt; without one, each
        # attempt gets its own "{instance_id}:{task_id}", as in the Durable Task Framework.
        child_id = self._child_instance_id(instance_id)
        return RetryableTask(
            self._replay, retry_options, lambda: self._schedule_sub_orchestration(name, input_, child_id)
        )

    def create_timer(self, fire_at: datetime | timedelta) -> TimerTask:
        """A durable timer firing at ``fire_at`` (or after a ``timedelta``); cancel it with ``.cancel()``."""
        if isinstance(fire_at, timedelta):
            fire_at = self.current_utc_datetime + fire_at
        if not isinstance(fire_at, datetime):
            raise TypeError(f"create_timer takes a datetime or a timedelta, not {type(fire_at).__name__}")
        if fire_at.tzinfo is None:
            raise ValueError("create_timer needs an aware datetime; use ctx.current_utc_datetime + timedelta(...)")
        return self._replay.create_timer(fire_at)

    def wait_for_external_event(self, name: str) -> Task:
        """Wait for an event raised to this instance; events raised before the wait are kept, in order."""
        check_name(name, "an event name", MAX_EVENT_NAME_LENGTH)
        return self._replay.wait_for_event(name)

    def task_all(self, activities: Sequence[Task]) -> Task:
        return WhenAllTask(activities)

    def task_any(self, activities: Sequence[Task]) -> Task:
        return WhenAnyTask(activities)

    def send_event(self, instance_id: str, event_name: str, data: Any = None) -> None:
        """Raise ``event_name`` on another instance, once this episode is checkpointed."""
        validate_instance_id(instance_id)
        check_name(event_name, "an event name", MAX_EVENT_NAME_LENGTH)
        payload = dumps(data, "the event data")
        self._replay.schedule(lambda task_id: act.SendEvent(task_id, instance_id, event_name, payload), None)

    def call_http(
        self,
        method: str,
        uri: str,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        token_source: Any = None,
        is_raw_str: bool = False,
        asynchronous_patterns: bool = True,
    ) -> Task:
        """A durable HTTP request. A 202 answer with a Location header is polled (GET, waiting
        Retry-After seconds on a durable timer) until it answers otherwise."""
        if token_source is not None:
            raise NotImplementedError("managed identity tokens are an Azure feature; pass an Authorization header")
        if content is not None and not (isinstance(content, str) and is_raw_str):
            content = dumps(content, "the HTTP content")
        request = {
            "method": method.upper(),
            "uri": uri,
            "content": content,
            "headers": dict(headers or {}),
            "asynchronous_patterns": asynchronous_patterns,
        }
        return HttpTask(self._replay, request, self._replay.http_poll_seconds)

    # People.

    def request_approval(
        self,
        name: str,
        *,
        title: str | None = None,
        assignees: str | Iterable[str] = (),
        details: Any = None,
        timeout: timedelta | None = None,
    ) -> Task:
        """Ask people to approve or reject a step; it shows in the console's approvals inbox for
        the ``assignees`` groups. The result is ``{"approved", "by", "comment", "decided_at",
        "timed_out"}``; after ``timeout`` with no decision it is a rejection with ``timed_out``."""
        check_name(name, "an approval name")
        if title is not None:
            check_text(title, f"the title of approval {name!r}", MAX_TITLE_LENGTH, controls=True)
        groups = (assignees,) if isinstance(assignees, str) else tuple(assignees)
        for group in groups:
            check_name(group, f"a group assigned approval {name!r}")
        payload = dumps(details, f"the details of approval {name!r}")
        deadline = self.current_utc_datetime + timeout if timeout is not None else None
        task = CompletableTask(-1, f"Approval {name!r}")
        self._replay.schedule(
            lambda task_id: act.RequestApproval(task_id, name, title or name, groups, payload, deadline), task
        )
        return task

    # Entities.

    def call_entity(self, entity_id: EntityId | str, operation_name: str, operation_input: Any = None) -> Task:
        """Run an operation on an entity and wait for its result (or its error, raised here)."""
        entity = str(EntityId.parse(entity_id))
        check_name(operation_name, "an operation name", MAX_EVENT_NAME_LENGTH)
        payload = dumps(operation_input, f"the input of {entity}.{operation_name}")
        return self._replay.call_entity(entity, operation_name, payload)

    def signal_entity(
        self,
        entity_id: EntityId | str,
        operation_name: str,
        operation_input: Any = None,
        scheduled_time: datetime | None = None,
    ) -> None:
        """Send an operation to an entity without waiting for it, now or at ``scheduled_time``."""
        entity = str(EntityId.parse(entity_id))
        check_name(operation_name, "an operation name", MAX_EVENT_NAME_LENGTH)
        payload = dumps(operation_input, f"the input of {entity}.{operation_name}")
        self._replay.signal_entity(entity, operation_name, payload, scheduled_time)

    def lock_entities(self, *entity_ids: EntityId | str | Iterable[EntityId | str]) -> Task:
        """Lock entities for a critical section: ``with (yield ctx.lock_entities(a, b)):``.
        The locks are released when the block ends, or when the orchestration ends."""
        flattened: list[EntityId | str] = []
        for entity_id in entity_ids:
            if isinstance(entity_id, EntityId | str):
                flattened.append(entity_id)
            else:
                flattened.extend(entity_id)
        return self._replay.lock_entities(canonical_lock_order(flattened))

    @property
    def is_locked(self) -> bool:
        """Whether the orchestration is inside a critical section."""
        return self._replay.locks.in_critical_section

    def continue_as_new(self, input_: Any = None, save_events: bool = False) -> None:
        """Restart this instance with ``input_`` and a fresh history once the orchestrator returns;
        with ``save_events``, events raised but not yet waited for are kept for the next execution."""
        self._replay.continue_as_new(input_, save_events)

    def set_custom_status(self, status: Any) -> None:
        self._replay.set_custom_status(status)

    # Helpers.

    def _schedule_activity(self, name: str, input_: Any) -> CompletableTask:
        check_name(name, "an activity name")
        payload = dumps(input_, f"the input of activity {name!r}")
        task = CompletableTask(-1, f"Activity {name!r}")
        self._replay.schedule(lambda task_id: act.ScheduleActivity(task_id, name, payload), task)
        return task

    def _schedule_sub_orchestration(self, name: str, input_: Any, instance_id: str | None) -> CompletableTask:
        check_name(name, "an orchestrator name")
        self._replay.locks.check_can_start_sub_orchestration()
        payload = dumps(input_, f"the input of sub-orchestration {name!r}")
        task = CompletableTask(-1, f"Sub-orchestration {name!r}")

        def make_action(task_id: int) -> act.CreateSubOrchestration:
            # A derived id is checked too: a long parent id can make it too long to store.
            child_id = instance_id or validate_instance_id(f"{self.instance_id}:{task_id}")
            return act.CreateSubOrchestration(task_id, name, child_id, payload, self.version)

        self._replay.schedule(make_action, task)
        return task

    def _child_instance_id(self, instance_id: str | None) -> str | None:
        return validate_instance_id(instance_id) if instance_id is not None else None


def _check_retry_options(retry_options: object) -> None:
    if not isinstance(retry_options, RetryOptions):
        raise TypeError(f"retry_options must be a RetryOptions, not {type(retry_options).__name__}")


#: The Azure Python SDK's name for the context, for code ported from it.
DurableOrchestrationContext = OrchestrationContext
