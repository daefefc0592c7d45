"""The replay executor: one pure function from history and new events to actions.

An episode replays the orchestrator over the events of its past episodes, with
``is_replaying`` set, then feeds it the new events. Each durable call the code makes becomes
an action numbered in call order; a scheduling event in history with the same number must
record the same call, and every call made before an episode boundary must be in history, or
the replay has diverged and the instance fails with a non-determinism error. The actions no
history event matched are the episode's new work.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrations.engine import actions as act
from orchestrations.engine import events as ev
from orchestrations.engine.context import OrchestrationContext
from orchestrations.engine.entities import LockState
from orchestrations.engine.events import EventType, HistoryEvent
from orchestrations.engine.failures import FailureDetails, NonDeterminismError
from orchestrations.engine.http import HTTP_ACTIVITY_NAME
from orchestrations.engine.ids import deterministic_uuid
from orchestrations.engine.serialization import SerializationError, dumps, loads
from orchestrations.engine.status import OrchestrationStatus
from orchestrations.engine.tasks import CompletableTask, ExternalEventTask, Task, TimerTask

Orchestrator = Callable[[Any], Any]


@dataclass
class Completion:
    """How the orchestration ended in this episode."""

    status: OrchestrationStatus
    output: str | None = None
    failure: FailureDetails | None = None
    #: For ContinuedAsNew: the next execution's input and the events it keeps.
    new_input: str | None = None
    carryover_events: list[HistoryEvent] = field(default_factory=list)


@dataclass
class EpisodeResult:
    actions: list[act.Action]
    custom_status: str | None
    completion: Completion | None
    #: What to append to the instance's history: the new events this episode consumed, a
    #: scheduling event per action, and the completion event if the orchestration ended.
    history: list[HistoryEvent]


def execute(
    orchestrator: Orchestrator,
    past_events: Sequence[HistoryEvent],
    new_events: Sequence[HistoryEvent],
    *,
    instance_id: str,
    http_poll_seconds: float = 5.0,
) -> EpisodeResult:
    """Run one episode of ``orchestrator``. ``new_events`` must start with OrchestratorStarted."""
    _check_new_events(new_events)
    return Replay(orchestrator, instance_id, http_poll_seconds).run(past_events, new_events)


def _check_new_events(new_events: Sequence[HistoryEvent]) -> None:
    if not new_events or new_events[0].event_type != EventType.ORCHESTRATOR_STARTED:
        raise ValueError("an episode's new events must start with OrchestratorStarted")


class Replay:
    """The state of one replay. The context and the tasks reach it through a narrow API:
    ``schedule``, ``create_timer``, ``call_builtin_http``, ``wait_for_event``, ``next_uuid``,
    ``set_custom_status`` and ``continue_as_new``."""

    def __init__(self, orchestrator: Orchestrator, instance_id: str, http_poll_seconds: float) -> None:
        self.orchestrator = orchestrator
        self.instance_id = instance_id
        self.http_poll_seconds = http_poll_seconds
        self.context = OrchestrationContext(self)
        self.name: str | None = None
        self.input: str | None = None
        self.version: str | None = None
        self.parent_instance_id: str | None = None
        self.current_utc_datetime: datetime | None = None
        self.is_replaying = True
        self.custom_status: str | None = None
        self.completion: Completion | None = None
        self._sequence = 0
        self._uuid_counter = 0
        self._pending_actions: dict[int, act.Action] = {}
        self._open_tasks: dict[int, CompletableTask] = {}
        self._event_waiters: dict[str, deque[ExternalEventTask]] = {}
        self._event_buffer: dict[str, deque[HistoryEvent]] = {}
        self._generator: Generator[Task, Any, Any] | None = None
        self._current_task: Task | None = None
        self._continue_as_new: tuple[str | None, bool] | None = None
        self.locks = LockState(self)
        self._entity_calls: dict[int, str] = {}

    # The run loop.

    def run(self, past_events: Iterable[HistoryEvent], new_events: Sequence[HistoryEvent]) -> EpisodeResult:
        past_events = list(past_events)
        try:
            for position, event in enumerate(past_events):
                self._apply(event)
                if self.completion is not None:
                    self._check_replayed_completion(past_events[position + 1 :])
                    break
            self.is_replaying = False
            if self.completion is not None:
                # The code now ends during replay (it fails on its own, say, after a rewind):
                # the episode still happened now, and its events were delivered.
                self.current_utc_datetime = new_events[0].timestamp
                return self._result(list(new_events))
        except NonDeterminismError as error:
            return self._result_for_divergence(error, new_events)
        return self._take(new_events)

    def advance(self, new_events: Sequence[HistoryEvent]) -> EpisodeResult:
        """Run the next episode on this replay, kept alive since the last one was checkpointed:
        only the new events are applied, nothing is replayed. The caller must be sure that
        the history is exactly what this replay produced (see the worker's replay cache)."""
        _check_new_events(new_events)
        if self.completion is not None:
            raise RuntimeError("a finished orchestration cannot take another episode")
        self._pending_actions.clear()  # Checkpointed with the last episode: they are history now.
        return self._take(new_events)

    def _take(self, new_events: Sequence[HistoryEvent]) -> EpisodeResult:
        consumed = 0
        try:
            for event in new_events:
                if self.completion is not None:
                    break
                self._apply(event)
                consumed += 1
        except NonDeterminismError as error:
            return self._result_for_divergence(error, new_events)
        if self.completion is not None and self.completion.status == OrchestrationStatus.CONTINUED_AS_NEW:
            self.completion.carryover_events.extend(self._carryover(new_events[consumed:]))
        return self._result(list(new_events[:consumed]))

    def _apply(self, event: HistoryEvent) -> None:
        handler = _HANDLERS.get(event.event_type)
        if handler is not None:
            handler(self, event)

    def _result(self, consumed_events: list[HistoryEvent]) -> EpisodeResult:
        new_actions = list(self._pending_actions.values())
        timestamp = self.current_utc_datetime
        history = consumed_events + [action.to_event(timestamp) for action in new_actions]
        if self.completion is not None:
            history.append(
                ev.execution_completed(
                    timestamp, self.completion.status, self.completion.output, self.completion.failure
                )
            )
        return EpisodeResult(new_actions, self.custom_status, self.completion, history)

    def _result_for_divergence(self, error: NonDeterminismError, new_events: Sequence[HistoryEvent]) -> EpisodeResult:
        # Nothing the diverged replay asked for is carried out: the instance fails as it stands.
        self._pending_actions.clear()
        self.current_utc_datetime = new_events[0].timestamp
        self.completion = Completion(OrchestrationStatus.FAILED, failure=FailureDetails.from_exception(error))
        return self._result([new_events[0]])

    # Event handlers, one per event type (see _HANDLERS at the end of the module).

    def _on_orchestrator_started(self, event: HistoryEvent) -> None:
        self.current_utc_datetime = event.timestamp
        self._check_calls_recorded()

    def _on_execution_started(self, event: HistoryEvent) -> None:
        self.name = event.name
        self.input = event.data
        self.version = event.details.get("version")
        self.parent_instance_id = event.details.get("parent_instance_id")
        try:
            returned = self.orchestrator(self.context)
        except Exception as error:
            self._fail_with(error)
            return
        if inspect.isgenerator(returned):
            self._generator = returned
            self._resume()
        else:
            self._complete_with(returned)

    def _on_scheduling_event(self, event: HistoryEvent) -> None:
        action = self._pending_actions.pop(event.task_id, None)
        recorded = act.describe_event(event)
        if action is None:
            raise NonDeterminismError(
                f"Non-deterministic orchestrator: at sequence number {event.task_id} the history has "
                f"{recorded}, but the code no longer makes that call"
            )
        if not act.matches(action, event):
            raise NonDeterminismError(
                f"Non-deterministic orchestrator: at sequence number {event.task_id} the history has "
                f"{recorded}, but the code now calls {action.describe()}"
            )

    def _on_task_completed(self, event: HistoryEvent) -> None:
        task = self._open_tasks.pop(event.task_id, None)
        if task is not None:
            try:
                result = loads(event.data)
            except (ValueError, RecursionError) as error:
                # A result that cannot be read fails the call it answers, which the orchestrator
                # can catch, and never the episode (which would be retried forever).
                failure = FailureDetails("MalformedResult", f"the result is not JSON: {error}")
                task.fail_from(failure)
            else:
                task.complete(result)
            self._resume()

    def _on_task_failed(self, event: HistoryEvent) -> None:
        task = self._open_tasks.pop(event.task_id, None)
        if task is not None:
            task.fail_from(event.failure)
            self._resume()

    def _on_entity_call_answered(self, event: HistoryEvent) -> None:
        self.locks.calls_in_flight.discard(self._entity_calls.pop(event.task_id, ""))
        if event.event_type == EventType.ENTITY_OPERATION_COMPLETED:
            self._on_task_completed(event)
        else:
            self._on_task_failed(event)

    def _on_lock_granted(self, event: HistoryEvent) -> None:
        task = self._open_tasks.pop(event.task_id, None)
        if task is not None:
            task.complete(self.locks.granted())
            self._resume()

    def _on_timer_fired(self, event: HistoryEvent) -> None:
        task = self._open_tasks.pop(event.task_id, None)
        if isinstance(task, TimerTask) and not task.is_cancelled:
            task.complete(None)
            self._resume()

    def _on_event_raised(self, event: HistoryEvent) -> None:
        key = (event.name or "").lower()
        waiters = self._event_waiters.get(key)
        if waiters:
            waiters.popleft().complete(loads(event.data))
            self._resume()
        else:
            self._event_buffer.setdefault(key, deque()).append(event)

    # Driving the orchestrator's generator.

    def _resume(self) -> None:
        generator = self._generator
        if generator is None or self.completion is not None:
            return
        while self._current_task is None or self._current_task.is_completed:
            task = self._current_task
            try:
                if task is not None and task.is_faulted:
                    yielded = generator.throw(task.exception)
                else:
                    yielded = generator.send(task.result if task is not None else None)
            except StopIteration as stop:
                self._complete_with(stop.value)
                return
            except Exception as error:
                self._fail_with(error)
                return
            if self._continue_as_new is not None:
                self._complete_with(None)
                return
            if not isinstance(yielded, Task):
                self._fail_with(
                    TypeError(
                        f"an orchestrator may only yield durable tasks, not {type(yielded).__name__}; "
                        "yield the result of a context call such as call_activity()"
                    )
                )
                return
            self._current_task = yielded

    def _complete_with(self, output: Any) -> None:
        if self._continue_as_new is not None:
            new_input, _ = self._continue_as_new
            self.completion = Completion(OrchestrationStatus.CONTINUED_AS_NEW, new_input=new_input)
            return
        try:
            serialized = dumps(output, "the orchestrator's output")
        except SerializationError as error:
            self._fail_with(error)
            return
        self.completion = Completion(OrchestrationStatus.COMPLETED, output=serialized)

    def _fail_with(self, error: BaseException) -> None:
        # The generator is left as it is, not closed: a ``finally`` in orchestrator code must not
        # get to make durable calls (or yield) after the orchestration has failed.
        self.completion = Completion(OrchestrationStatus.FAILED, failure=FailureDetails.from_exception(error))

    def _check_calls_recorded(self) -> None:
        """Every call the code made in a replayed episode must be in that episode's history."""
        if self._pending_actions:
            task_id, action = next(iter(self._pending_actions.items()))
            raise NonDeterminismError(
                f"Non-deterministic orchestrator: the code now makes {action.describe()} at sequence number "
                f"{task_id}, but the history has no such call there"
            )

    def _check_replayed_completion(self, remaining: Sequence[HistoryEvent]) -> None:
        """The code finished while replaying. The calls it made on its way out (a send_event
        just before returning) are recorded after the event that finished it, in the same
        episode, and must match; a call recorded in a later episode means the code now
        finishes early."""
        in_finishing_episode = True
        for event in remaining:
            if event.event_type == EventType.ORCHESTRATOR_STARTED:
                in_finishing_episode = False
            elif event.event_type in ev.SCHEDULING_EVENTS:
                if not (in_finishing_episode and event.task_id in self._pending_actions):
                    raise NonDeterminismError(
                        f"Non-deterministic orchestrator: the code now finishes, but the history goes on with "
                        f"{act.describe_event(event)} at sequence number {event.task_id}"
                    )
                self._on_scheduling_event(event)
        self._check_calls_recorded()

    def _carryover(self, unconsumed: Iterable[HistoryEvent]) -> list[HistoryEvent]:
        _, save_events = self._continue_as_new or (None, False)
        if not save_events:
            return []
        buffered = [event for queue in self._event_buffer.values() for event in queue]
        buffered += [event for event in unconsumed if event.event_type == EventType.EVENT_RAISED]
        return buffered

    @property
    def open_task_ids(self) -> frozenset[int]:
        """The durable calls made and not yet answered (activities, timers, sub-orchestrations,
        entity calls and lock requests)."""
        return frozenset(self._open_tasks)

    # The narrow API the context and the tasks use.

    def schedule(self, make_action: Callable[[int], act.Action], task: CompletableTask | None) -> None:
        """Record the next durable call: ``make_action`` builds it from its sequence number."""
        task_id = self._sequence
        self._sequence += 1
        self._pending_actions[task_id] = make_action(task_id)
        if task is not None:
            task.task_id = task_id
            self._open_tasks[task_id] = task

    def create_timer(self, fire_at: datetime) -> TimerTask:
        task = TimerTask(-1, fire_at)
        self.schedule(lambda task_id: act.CreateTimer(task_id, fire_at), task)
        return task

    def call_builtin_http(self, request: dict[str, Any]) -> CompletableTask:
        task = CompletableTask(-1, f"call_http({request.get('method')!r}, {request.get('uri')!r})")
        serialized = dumps(request, "the HTTP request")
        self.schedule(lambda task_id: act.ScheduleActivity(task_id, HTTP_ACTIVITY_NAME, serialized), task)
        return task

    def wait_for_event(self, name: str) -> ExternalEventTask:
        key = name.lower()
        task = ExternalEventTask(name)
        buffered = self._event_buffer.get(key)
        if buffered:
            task.complete(loads(buffered.popleft().data))
        else:
            self._event_waiters.setdefault(key, deque()).append(task)
        return task

    def call_entity(self, entity_id: str, operation: str, payload: str | None) -> CompletableTask:
        self.locks.check_can_call(entity_id)
        task = CompletableTask(-1, f"Entity operation {operation!r} on {entity_id}")
        self.schedule(lambda task_id: act.CallEntity(task_id, entity_id, operation, payload), task)
        self._entity_calls[task.task_id] = entity_id
        if self.locks.in_critical_section:
            self.locks.calls_in_flight.add(entity_id)
        return task

    def signal_entity(
        self, entity_id: str, operation: str, payload: str | None, scheduled_time: datetime | None
    ) -> None:
        self.locks.check_can_signal(entity_id)
        self.schedule(lambda task_id: act.SignalEntity(task_id, entity_id, operation, payload, scheduled_time), None)

    def lock_entities(self, entity_ids: tuple[str, ...]) -> CompletableTask:
        self.locks.check_can_lock()
        task = CompletableTask(-1, f"lock_entities({', '.join(entity_ids)})")
        self.schedule(lambda task_id: act.LockEntities(task_id, entity_ids), task)
        self.locks.requested = entity_ids
        return task

    def release_locks(self, entity_ids: tuple[str, ...]) -> None:
        self.schedule(lambda task_id: act.UnlockEntities(task_id, entity_ids), None)

    def next_uuid(self) -> str:
        value = deterministic_uuid(self.instance_id, self.current_utc_datetime.isoformat(), self._uuid_counter)
        self._uuid_counter += 1
        return str(value)

    def set_custom_status(self, value: Any) -> None:
        self.custom_status = dumps(value, "the custom status")

    def continue_as_new(self, new_input: Any, save_events: bool) -> None:
        self._continue_as_new = (dumps(new_input, "the new input"), save_events)


_HANDLERS: dict[EventType, Callable[[Replay, HistoryEvent], None]] = {
    EventType.ORCHESTRATOR_STARTED: Replay._on_orchestrator_started,
    EventType.EXECUTION_STARTED: Replay._on_execution_started,
    EventType.TASK_SCHEDULED: Replay._on_scheduling_event,
    EventType.TIMER_CREATED: Replay._on_scheduling_event,
    EventType.SUB_ORCHESTRATION_CREATED: Replay._on_scheduling_event,
    EventType.EVENT_SENT: Replay._on_scheduling_event,
    EventType.TASK_COMPLETED: Replay._on_task_completed,
    EventType.SUB_ORCHESTRATION_COMPLETED: Replay._on_task_completed,
    EventType.TASK_FAILED: Replay._on_task_failed,
    EventType.SUB_ORCHESTRATION_FAILED: Replay._on_task_failed,
    EventType.TIMER_FIRED: Replay._on_timer_fired,
    EventType.EVENT_RAISED: Replay._on_event_raised,
    EventType.ENTITY_OPERATION_CALLED: Replay._on_scheduling_event,
    EventType.ENTITY_OPERATION_SIGNALED: Replay._on_scheduling_event,
    EventType.ENTITY_LOCK_REQUESTED: Replay._on_scheduling_event,
    EventType.ENTITY_UNLOCK_SENT: Replay._on_scheduling_event,
    EventType.ENTITY_OPERATION_COMPLETED: Replay._on_entity_call_answered,
    EventType.ENTITY_OPERATION_FAILED: Replay._on_entity_call_answered,
    EventType.ENTITY_LOCK_GRANTED: Replay._on_lock_granted,
    EventType.APPROVAL_REQUESTED: Replay._on_scheduling_event,
    EventType.APPROVAL_DECIDED: Replay._on_task_completed,
    # Suspension, resumption and rewinding are handled by the worker; replay passes them by.
}
