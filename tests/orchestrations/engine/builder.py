"""Drive an orchestrator episode by episode, the way a worker would, with no database.

A test starts an ``OrchestrationRun``, runs an episode, reads the actions it got back, feeds
the outcomes of those actions (an activity result, a fired timer, a raised event...) and
runs the next episode. The run keeps the history exactly as a worker would store it, so a
later episode replays everything before it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrations.engine import EpisodeResult, FailureDetails, HistoryEvent, OrchestrationStatus, execute
from orchestrations.engine import events as ev
from orchestrations.engine.executor import Orchestrator

START = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
INSTANCE_ID = "order-42"


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


class OrchestrationRun:
    """One orchestration instance: its history, its pending new events and its clock."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        input: Any = None,
        *,
        instance_id: str = INSTANCE_ID,
        name: str = "TestOrchestrator",
        version: str | None = None,
        parent_instance_id: str | None = None,
        http_poll_seconds: float = 5.0,
    ) -> None:
        self.orchestrator = orchestrator
        self.instance_id = instance_id
        self.http_poll_seconds = http_poll_seconds
        self.now = START
        self.history: list[HistoryEvent] = []
        self.last: EpisodeResult | None = None
        self._new_events = [
            ev.execution_started(START, name, to_json(input), version=version, parent_instance_id=parent_instance_id)
        ]

    # Running.

    def run_episode(self) -> EpisodeResult:
        """Execute one episode over the history and the events fed since the last one."""
        new_events = [ev.orchestrator_started(self.now), *self._new_events]
        self._new_events = []
        self.last = execute(
            self.orchestrator,
            self.history,
            new_events,
            instance_id=self.instance_id,
            http_poll_seconds=self.http_poll_seconds,
        )
        self.history.extend(self.last.history)
        return self.last

    def replay(self, orchestrator: Orchestrator | None = None) -> EpisodeResult:
        """Replay the whole history with nothing new, as a worker would on a redelivered
        message, optionally with changed orchestrator code. The run itself is left as it was."""
        return execute(
            orchestrator or self.orchestrator,
            self.history,
            [ev.orchestrator_started(self.now)],
            instance_id=self.instance_id,
            http_poll_seconds=self.http_poll_seconds,
        )

    # The clock.

    def advance(self, **delta: float) -> OrchestrationRun:
        """Move the clock on, e.g. ``run.advance(seconds=30)``."""
        self.now += timedelta(**delta)
        return self

    # Feeding the outcome of actions (each returns the run, so calls can be chained).

    def add(self, event: HistoryEvent) -> OrchestrationRun:
        self._new_events.append(event)
        return self

    def complete_activity(self, task_id: int, value: Any = None) -> OrchestrationRun:
        return self.add(ev.task_completed(self.now, task_id, to_json(value)))

    def fail_activity(self, task_id: int, error: BaseException) -> OrchestrationRun:
        return self.add(ev.task_failed(self.now, task_id, FailureDetails.from_exception(error)))

    def complete_sub_orchestration(self, task_id: int, value: Any = None) -> OrchestrationRun:
        return self.add(ev.sub_orchestration_completed(self.now, task_id, to_json(value)))

    def fail_sub_orchestration(self, task_id: int, error: BaseException) -> OrchestrationRun:
        return self.add(ev.sub_orchestration_failed(self.now, task_id, FailureDetails.from_exception(error)))

    def fire_timer(self, task_id: int) -> OrchestrationRun:
        """Fire the timer created at ``task_id``, moving the clock to its fire time if that is later."""
        created = next(
            event
            for event in self.history
            if event.event_type == ev.EventType.TIMER_CREATED and event.task_id == task_id
        )
        fire_at = datetime.fromisoformat(created.details["fire_at"])
        self.now = max(self.now, fire_at)
        return self.add(ev.timer_fired(self.now, task_id, fire_at))

    def raise_event(self, name: str, value: Any = None) -> OrchestrationRun:
        return self.add(ev.event_raised(self.now, name, to_json(value)))

    def complete_entity_call(self, task_id: int, value: Any = None) -> OrchestrationRun:
        return self.add(ev.entity_operation_completed(self.now, task_id, to_json(value)))

    def fail_entity_call(self, task_id: int, error: BaseException) -> OrchestrationRun:
        return self.add(ev.entity_operation_failed(self.now, task_id, FailureDetails.from_exception(error)))

    def grant_lock(self, task_id: int) -> OrchestrationRun:
        return self.add(ev.entity_lock_granted(self.now, task_id))

    # Reading the outcome of the last episode.

    @property
    def status(self) -> OrchestrationStatus:
        completion = self.last.completion
        return completion.status if completion is not None else OrchestrationStatus.RUNNING

    @property
    def output(self) -> Any:
        return json.loads(self.last.completion.output or "null")

    @property
    def failure(self) -> FailureDetails:
        return self.last.completion.failure

    @property
    def custom_status(self) -> Any:
        return json.loads(self.last.custom_status or "null")
