"""Orchestrators written with the Azure Durable Functions SDK, run by Perdura's engine.

The SDK runs an orchestrator out of process: the host hands its handler the orchestration
context as JSON (the history, with Durable Functions' numeric event types), the handler
replays the user's generator over it and answers with the orchestrator's state as JSON
(every action so far, whether it is done, its output or error, its custom status). Here the
host is a Perdura orchestrator, ``SdkOrchestration.run``, and the engine replays it like any
other: each action the SDK asks for becomes the same durable call a native orchestrator
would make (so the history is the same, and so are retries, timers, entity calls and the
non-determinism checks), and each result the engine delivers is written into the SDK's
history in the SDK's form before the handler is asked again.

How the two meet:

- Ids. The SDK numbers its tasks from 0 in the order it first yields them and matches each
  completion to its task by that id (an external event by its name). The cumulative action
  list, leaves taken depth first, is in that order, so each new leaf gets the next id.
  ``signal_entity`` and ``continue_as_new`` take an id when called; waiting for an event
  takes none.
- Retries are the host's in the SDK's protocol: the SDK expects, per failed attempt, a
  TaskFailed, a timer (one id) and a new attempt (another id), and after the last failed
  attempt one more timer before it raises. The engine's own retry runs the attempts (with
  their timers, in Perdura's history); once it has an outcome, that story is written for the
  SDK, the id-taking events of every retried call first in a round, so that the ids the SDK
  allocates while it reads them come before those of anything the user code yields next.
- What to wait for. After each answer the run waits for what the SDK waits for: the last
  action, if it is new (a WhenAll compound as one ``task_all``, so that a fan-out of a
  thousand costs one handler call, not a thousand), or else for any call still open.
- Time and replay. An OrchestratorStarted with the engine's episode time is written before
  each round's completions, so ``current_utc_datetime`` and ``new_uuid`` are the episode's on
  every replay; events of episodes already past are marked played.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrations.engine import RetryOptions, Task, TaskFailedError
from orchestrations.engine.context import OrchestrationContext
from orchestrations.engine.serialization import loads
from orchestrations.engine.tasks import RetryableTask, TimerTask

#: What the SDK appends to the message of an exception its handler raises, before the state.
OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"
#: The SDK's schema: one list of actions, WhenAll/WhenAny as compound actions (V2).
UPPER_SCHEMA_VERSION = 1


class EventType:
    """Durable Functions' history event types, as the SDK reads them."""

    EXECUTION_STARTED = 0
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_COMPLETED = 8
    SUB_ORCHESTRATION_FAILED = 9
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    EVENT_SENT = 14
    EVENT_RAISED = 15


class ActionType:
    """The SDK's action types."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    WHEN_ANY = 11
    WHEN_ALL = 12


class AzureOrchestratorError(Exception):
    """The orchestrator, run by the SDK, failed: the message is the SDK's."""


class UnsupportedActionError(Exception):
    """The SDK asked for something Perdura does not do."""


@dataclass
class _Call:
    """A durable call the SDK asked for, made on the engine."""

    sdk_id: int | None
    action: dict[str, Any]
    task: Task
    #: For an entity call: the request id its answer is raised under.
    request_id: str | None = None
    reported: bool = False


@dataclass
class SdkOrchestration:
    """One run of an SDK orchestrator's handler inside a Perdura orchestrator (see the module)."""

    handle: Callable[[str], str]
    name: str
    context: OrchestrationContext
    history: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0
    known_leaves: int = 0
    calls: list[_Call] = field(default_factory=list)
    #: The call made for each leaf of the action list, by the leaf's position in it.
    by_leaf: dict[int, _Call] = field(default_factory=dict)
    last_started: datetime | None = None

    @classmethod
    def orchestrator(cls, handle: Callable[[str], str], name: str) -> Callable[[OrchestrationContext], Iterator[Task]]:
        """A Perdura orchestrator function that runs the SDK handler ``handle``."""

        def run_sdk_orchestrator(context: OrchestrationContext) -> Iterator[Task]:
            return cls(handle, name, context).run()

        run_sdk_orchestrator.__name__ = name
        return run_sdk_orchestrator

    def run(self) -> Iterator[Task]:
        _read_timestamps_quickly()
        context = self.context
        self._started()
        self.history.append(
            self._event(EventType.EXECUTION_STARTED, Name=self.name, Version=context.version or "", Input=None)
        )
        input_text = json.dumps(context.get_input())
        while True:
            state = self._ask(input_text)
            if state.get("customStatus") is not None:
                context.set_custom_status(state["customStatus"])
            leaves = list(_leaves(state.get("actions") or []))
            positions = {id(leaf): position for position, leaf in enumerate(leaves)}
            self._cancel_timers(leaves)
            continued = None
            for position in range(self.known_leaves, len(leaves)):
                leaf = leaves[position]
                if leaf.get("actionType") == ActionType.CONTINUE_AS_NEW:
                    continued = leaf
                call = self._start(leaf)
                if call is not None:
                    self.calls.append(call)
                    self.by_leaf[position] = call
            any_new = len(leaves) > self.known_leaves
            self.known_leaves = len(leaves)
            if state.get("isDone"):
                if continued is not None:
                    context.continue_as_new(loads(continued.get("input")))
                    return None
                return state.get("output")
            awaited = self._awaited(state, positions if any_new else None)
            # A failed call is reported to the SDK like any outcome: the user's code decides.
            with contextlib.suppress(Exception):
                yield awaited
            self._report()

    # Asking the SDK.

    def _ask(self, input_text: str) -> dict[str, Any]:
        request = {
            "history": self.history,
            "instanceId": self.context.instance_id,
            "isReplaying": self.context.is_replaying,
            "parentInstanceId": self.context.parent_instance_id,
            "input": input_text,
            "upperSchemaVersion": UPPER_SCHEMA_VERSION,
        }
        key = _answers.key(f"{self.name}:{id(self.handle)}", request)
        answer = _answers.get(key)
        if answer is None:
            answer = self._handle(request)
            _answers.put(key, answer)
        return json.loads(answer)

    def _handle(self, request: dict[str, Any]) -> str:
        try:
            return self.handle(json.dumps(request))
        except Exception as error:
            # The user's code failed (the SDK's message, its state after the marker), or the SDK
            # itself could not go on (yielding something other than a task, say).
            message = str(error)
            if OUT_OF_PROC_MARKER in message:
                error_text = message.split(OUT_OF_PROC_MARKER, 1)[0]
            else:
                error_text = f"{type(error).__name__}: {message}"
            raise AzureOrchestratorError(f"Orchestrator function '{self.name}' failed: {error_text}") from error

    # Making the calls.

    def _start(self, leaf: dict[str, Any]) -> _Call | None:
        """Make the call ``leaf`` asks for; None for what has nothing to wait for."""
        kind = leaf.get("actionType")
        context = self.context
        if kind == ActionType.WAIT_FOR_EXTERNAL_EVENT:
            return _Call(None, leaf, context.wait_for_external_event(leaf["externalEventName"]))
        if kind == ActionType.CONTINUE_AS_NEW:
            self._take_id()
            return None  # Carried out when the SDK says it is done.
        sdk_id = self._take_id()
        if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
            value = loads(leaf.get("input"))
            retry = _retry_options(leaf)
            if retry is None:
                task = context.call_activity(leaf["functionName"], value)
            else:
                task = context.call_activity_with_retry(leaf["functionName"], retry, value)
        elif kind in (ActionType.CALL_SUB_ORCHESTRATOR, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
            value = loads(leaf.get("input"))
            retry = _retry_options(leaf)
            if retry is None:
                task = context.call_sub_orchestrator(leaf["functionName"], value, leaf.get("instanceId"))
            else:
                task = context.call_sub_orchestrator_with_retry(
                    leaf["functionName"], retry, value, leaf.get("instanceId")
                )
        elif kind == ActionType.CREATE_TIMER:
            fire_at = _parse_time(leaf["fireAt"])
            task = context.create_timer(fire_at)
        elif kind == ActionType.CALL_ENTITY:
            # The SDK's ``@name@key`` is the form the engine takes too.
            task = context.call_entity(leaf["instanceId"], leaf["operation"], loads(leaf.get("input")))
            request_id = f"{context.instance_id}:{sdk_id}"
            self.history.append(
                self._event(EventType.EVENT_SENT, EventId=sdk_id, Name="op", Input=json.dumps({"id": request_id}))
            )
            return _Call(sdk_id, leaf, task, request_id)
        elif kind == ActionType.SIGNAL_ENTITY:
            context.signal_entity(leaf["instanceId"], leaf["operation"], loads(leaf.get("input")))
            self.history.append(self._event(EventType.EVENT_SENT, EventId=sdk_id, Name="op", Input="{}"))
            return None
        elif kind == ActionType.CALL_HTTP:
            task = self._call_http(leaf["httpRequest"])
        else:
            raise UnsupportedActionError(f"the orchestrator asked for action type {kind!r}, which Perdura does not run")
        return _Call(sdk_id, leaf, task)

    def _call_http(self, request: dict[str, Any]) -> Task:
        if request.get("tokenSource"):
            raise UnsupportedActionError(
                "call_http with a token source (a managed identity) is not supported: pass the token in a header"
            )
        # The SDK has already written the content as text (JSON, or the raw string).
        return self.context.call_http(
            request.get("method", "GET"),
            request["uri"],
            request.get("content"),
            request.get("headers"),
            is_raw_str=True,
        )

    def _cancel_timers(self, leaves: list[dict[str, Any]]) -> None:
        """A timer the code cancelled (the loser of a race) is cancelled on the engine too."""
        for position, leaf in enumerate(leaves):
            if leaf.get("actionType") == ActionType.CREATE_TIMER and leaf.get("isCanceled"):
                call = self.by_leaf.get(position)
                if call is not None and isinstance(call.task, TimerTask) and not call.task.is_completed:
                    call.task.cancel()

    # Waiting.

    def _awaited(self, state: dict[str, Any], positions: dict[int, int] | None) -> Task:
        """What to wait for: the SDK's last action when it is new (``positions`` maps this
        answer's leaves to their places), a WhenAll of a fan-out as one ``task_all``; and any
        other call still open besides, since a compound action lists only its new children and
        the code may be waiting for an older one too. The round after any of them completes,
        the SDK says what comes next."""
        open_calls = [call for call in self.calls if not call.reported]
        actions = _top_level(state.get("actions") or [])
        covered: list[_Call] = []
        awaited = self._as_task(actions[-1], positions, covered) if positions is not None and actions else None
        others = [call.task for call in open_calls if not any(call is taken for taken in covered)]
        if awaited is None:
            if not others:
                raise AzureOrchestratorError(
                    f"Orchestrator function '{self.name}' waits for nothing Perdura can deliver (no call is open)"
                )
            return self.context.task_any(others)
        return self.context.task_any([awaited, *others]) if others else awaited

    def _as_task(self, action: dict[str, Any], positions: dict[int, int], covered: list[_Call]) -> Task | None:
        kind = action.get("actionType")
        if kind in (ActionType.WHEN_ALL, ActionType.WHEN_ANY):
            children = [self._as_task(child, positions, covered) for child in action.get("compoundActions") or []]
            if not children or any(child is None for child in children):
                return None
            if kind == ActionType.WHEN_ALL:
                return self.context.task_all(children)  # type: ignore[arg-type]
            return self.context.task_any(children)  # type: ignore[arg-type]
        call = self.by_leaf.get(positions.get(id(action), -1))
        if call is None or call.reported:
            return None
        covered.append(call)
        return call.task

    # Reporting results to the SDK.

    def _report(self) -> None:
        """Write what completed since the last round into the SDK's history: first the retry
        events that take ids, then the completions that resume the user's code."""
        done = [call for call in self.calls if not call.reported and call.task.is_completed]
        if not done:
            return
        self._started()
        finishing: list[Callable[[], None]] = []
        for call in done:
            call.reported = True
            if isinstance(call.task, RetryableTask):
                finishing.append(self._report_retries(call))
            else:
                finishing.append(lambda call=call: self._report_outcome(call, call.sdk_id))
        for finish in finishing:
            finish()

    def _report_retries(self, call: _Call) -> Callable[[], None]:
        """The attempts before the last, and the last one's failure if it failed; returns what
        reports the outcome (the last attempt's completion, or the timer after its failure)."""
        task = call.task
        assert isinstance(task, RetryableTask)
        attempt_id = call.sdk_id
        failed = EventType.TASK_FAILED
        if call.action.get("actionType") == ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY:
            failed = EventType.SUB_ORCHESTRATION_FAILED
        for _ in range(task.attempts - 1):
            self.history.append(self._event(failed, TaskScheduledId=attempt_id, Reason="attempt failed", Details=""))
            timer_id = self._take_id()
            self.history.append(self._event(EventType.TIMER_FIRED, TimerId=timer_id))
            attempt_id = self._take_id()
        if not task.is_faulted:
            return lambda: self._report_outcome(call, attempt_id)
        self._report_outcome(call, attempt_id)
        timer_id = self._take_id()
        return lambda: self.history.append(self._event(EventType.TIMER_FIRED, TimerId=timer_id))

    def _report_outcome(self, call: _Call, sdk_id: int | None) -> None:
        kind = call.action.get("actionType")
        task = call.task
        if kind == ActionType.WAIT_FOR_EXTERNAL_EVENT:
            name = call.action["externalEventName"]
            self.history.append(self._event(EventType.EVENT_RAISED, Name=name, Input=json.dumps(task.result)))
        elif kind == ActionType.CREATE_TIMER:
            if not task.is_faulted:
                self.history.append(self._event(EventType.TIMER_FIRED, TimerId=sdk_id))
        elif kind == ActionType.CALL_ENTITY:
            answer: dict[str, Any]
            if task.is_faulted:
                answer = {"result": json.dumps(_failure_message(task.exception)), "exceptionType": "Exception"}
            else:
                answer = {"result": json.dumps(task.result)}
            self.history.append(self._event(EventType.EVENT_RAISED, Name=call.request_id, Input=json.dumps(answer)))
        else:
            sub = kind in (ActionType.CALL_SUB_ORCHESTRATOR, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY)
            if task.is_faulted:
                event_type = EventType.SUB_ORCHESTRATION_FAILED if sub else EventType.TASK_FAILED
                reason, details = _failure_parts(task.exception)
                self.history.append(self._event(event_type, TaskScheduledId=sdk_id, Reason=reason, Details=details))
            else:
                event_type = EventType.SUB_ORCHESTRATION_COMPLETED if sub else EventType.TASK_COMPLETED
                result = _http_result(task.result) if kind == ActionType.CALL_HTTP else task.result
                self.history.append(self._event(event_type, TaskScheduledId=sdk_id, Result=json.dumps(result)))

    # History bookkeeping.

    def _take_id(self) -> int:
        sdk_id = self.next_id
        self.next_id += 1
        return sdk_id

    def _started(self) -> None:
        """An OrchestratorStarted for the engine's current episode, where time has moved."""
        now = self.context.current_utc_datetime
        if now != self.last_started:
            self.last_started = now
            self.history.append(self._event(EventType.ORCHESTRATOR_STARTED))

    def _timestamp(self) -> str:
        return _format_time(self.context.current_utc_datetime)

    def _event(self, event_type: int, **fields: Any) -> dict[str, Any]:
        event = {
            "EventType": event_type,
            "EventId": fields.pop("EventId", -1),
            "IsPlayed": self.context.is_replaying,
            "Timestamp": self._timestamp(),
        }
        event.update(fields)
        return event


class AnswerCache:
    """The SDK's answers, by what they answered, in this process (at most ``budget`` bytes).

    A worker replays an orchestration from its start when the episode comes to a process that
    does not hold it live (the replay cache), and this orchestrator then asks the SDK once per
    past round, each time with the history so far: the SDK replays the user's code over all of
    it, so a cold replay of n rounds costs n²/2 events. The answer is a function of the request
    (the SDK is deterministic, as the user's code must be), apart from whether events are being
    replayed, which only the code's side effects may look at: so the key leaves those flags
    out, and a round any replay in this process has asked about before is not asked again."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._answers: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(name: str, request: dict[str, Any]) -> bytes:
        history = [{k: v for k, v in event.items() if k != "IsPlayed"} for event in request["history"]]
        asked = {**request, "history": history, "isReplaying": None, "name": name}
        return hashlib.blake2b(json.dumps(asked, sort_keys=True).encode(), digest_size=20).digest()

    def get(self, key: bytes) -> str | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: bytes, answer: str) -> None:
        if len(answer) > self.budget // 8:
            return  # One answer may not push out most of the others.
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = answer
            self.size += len(answer)
            while self.size > self.budget:
                _, dropped = self._answers.popitem(last=False)
                self.size -= len(dropped)


_answers = AnswerCache(budget=32 * 1024 * 1024)
_timestamps_installed = False


def _read_timestamps_quickly() -> None:
    """The SDK reads every event's Timestamp with dateutil's general parser, which is most of
    what a replay costs (three quarters of a 100-step chain's time). The timestamps written
    here are ISO 8601 in UTC, which ``datetime.fromisoformat`` reads to the same value (aware,
    with dateutil's UTC) many times faster, and an episode's events share one: the SDK's
    history module gets that reader, which hands anything else to dateutil as before."""
    global _timestamps_installed
    if _timestamps_installed:
        return
    import importlib

    from dateutil import tz

    history_event = importlib.import_module("azure.durable_functions.models.history.HistoryEvent")
    general = history_event.dt_parse
    utc = tz.tzutc()

    @functools.lru_cache(maxsize=4096)
    def parse(text: str, *args: Any, **kwargs: Any) -> datetime:
        if not args and not kwargs and text.endswith("Z"):
            try:
                return datetime.fromisoformat(text[:-1]).replace(tzinfo=utc)
            except ValueError:
                pass
        return general(text, *args, **kwargs)

    history_event.dt_parse = parse
    _timestamps_installed = True


def _leaves(actions: list[Any]) -> Iterator[dict[str, Any]]:
    """The atomic actions, depth first, in the order the SDK numbered them."""
    for action in actions:
        if isinstance(action, list):
            yield from _leaves(action)
        elif action.get("actionType") in (ActionType.WHEN_ALL, ActionType.WHEN_ANY):
            yield from _leaves(action.get("compoundActions") or [])
        else:
            yield action


def _top_level(actions: list[Any]) -> list[dict[str, Any]]:
    """The actions one per yield (schema V2 nests them in one list)."""
    flat: list[dict[str, Any]] = []
    for action in actions:
        if isinstance(action, list):
            flat.extend(action)
        else:
            flat.append(action)
    return flat


def _retry_options(action: dict[str, Any]) -> RetryOptions | None:
    options = action.get("retryOptions")
    if options is None:
        return None
    return RetryOptions(
        first_retry_interval_in_milliseconds=int(options["firstRetryIntervalInMilliseconds"]),
        max_number_of_attempts=int(options["maxNumberOfAttempts"]),
    )


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _failure_parts(error: BaseException | None) -> tuple[str, str]:
    if isinstance(error, TaskFailedError):
        return error.details.message, error.details.stack_trace or ""
    return str(error), ""


def _failure_message(error: BaseException | None) -> str:
    return _failure_parts(error)[0]


def _http_result(response: Any) -> dict[str, Any]:
    """A DurableHttpResponse in the shape the SDK reads."""
    return {
        "statusCode": getattr(response, "status_code", None),
        "headers": dict(getattr(response, "headers", {}) or {}),
        "content": getattr(response, "content", None),
    }
