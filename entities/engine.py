"""Running entity operations: pure Python, like the orchestration engine.

An operation gets the entity's state as JSON text and returns the new state, its result or
its error, and what it sent: signals to other entities and orchestrations to start. An
operation that raises leaves the state as it was before it and sends nothing.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrations.engine import EntityId, FailureDetails
from orchestrations.engine.ids import validate_instance_id
from orchestrations.engine.limits import check_name
from orchestrations.engine.serialization import dumps, loads

_current: contextvars.ContextVar[EntityContext] = contextvars.ContextVar("perdura_entity_context")


class UnknownOperationError(LookupError):
    """The entity has no operation of that name."""


@dataclass(frozen=True)
class Signal:
    entity_id: str
    operation: str
    input: str | None
    scheduled_time: datetime | None = None


@dataclass(frozen=True)
class OrchestrationStart:
    name: str
    input: str | None
    instance_id: str | None
    #: The operation's span, when tracing: the start is traced under it.
    trace_parent: str | None = None


@dataclass
class OperationResult:
    state: str | None
    result: str | None = None
    failure: FailureDetails | None = None
    signals: list[Signal] = field(default_factory=list)
    orchestrations: list[OrchestrationStart] = field(default_factory=list)


class EntityContext:
    """What a function-style entity gets, with the Azure Python SDK's names."""

    def __init__(self, entity_id: EntityId, operation_name: str, input: str | None, state: str | None) -> None:
        self.entity_id = entity_id
        self.operation_name = operation_name
        self._input = input
        self._state = state
        self._result: str | None = None
        self._destruct = False
        self.signals: list[Signal] = []
        self.orchestrations: list[OrchestrationStart] = []

    @property
    def entity_name(self) -> str:
        return self.entity_id.name

    @property
    def entity_key(self) -> str:
        return self.entity_id.key

    def get_input(self) -> Any:
        return loads(self._input)

    def get_state(self, initializer: Callable[[], Any] | None = None) -> Any:
        if self._state is None:
            return initializer() if initializer is not None else None
        return loads(self._state)

    def set_state(self, state: Any) -> None:
        self._state = dumps(state, f"the state of {self.entity_id}")
        self._destruct = False

    def set_result(self, result: Any) -> None:
        self._result = dumps(result, f"the result of {self.entity_id}.{self.operation_name}")

    def destruct_on_exit(self) -> None:
        """Delete the entity's state once this operation ends."""
        self._destruct = True

    def signal_entity(
        self,
        entity_id: EntityId | str,
        operation_name: str,
        operation_input: Any = None,
        scheduled_time: datetime | None = None,
    ) -> None:
        target = str(EntityId.parse(entity_id))
        payload = dumps(operation_input, f"the input of {target}.{operation_name}")
        self.signals.append(Signal(target, operation_name, payload, scheduled_time))

    def start_new_orchestration(self, name: str, input_: Any = None, instance_id: str | None = None) -> None:
        """Start an orchestration once this operation's batch is written."""
        check_name(name, "an orchestrator name")
        if instance_id is not None:
            validate_instance_id(instance_id)
        self.orchestrations.append(OrchestrationStart(name, dumps(input_, f"the input of {name!r}"), instance_id))

    @property
    def state_after(self) -> str | None:
        return None if self._destruct else self._state


def current_entity() -> EntityContext:
    """The context of the operation running now, for class-style entities that need it."""
    return _current.get()


def run_operation(
    entity: Callable[..., Any] | type, entity_id: EntityId, operation: str, input: str | None, state: str | None
) -> OperationResult:
    context = EntityContext(entity_id, operation, input, state)
    token = _current.set(context)
    try:
        if inspect.isclass(entity):
            _run_class_operation(entity, context)
        else:
            entity(context)
        new_state = context.state_after
    except Exception as error:  # The operation's error goes to its caller; the entity goes on.
        return OperationResult(state=state, failure=FailureDetails.from_exception(error))
    finally:
        _current.reset(token)
    return OperationResult(new_state, context._result, None, context.signals, context.orchestrations)


def _run_class_operation(cls: type, context: EntityContext) -> None:
    """A class-style entity: its public methods are the operations, its attributes the state."""
    operation = context.operation_name
    if operation == "delete" and not hasattr(cls, "delete"):
        context.destruct_on_exit()
        return
    method = getattr(cls, operation, None)
    if operation.startswith("_") or not callable(method):
        raise UnknownOperationError(f"entity {context.entity_name!r} has no operation {operation!r}")
    state = context.get_state()
    if state is None:
        instance = cls()
    else:
        instance = cls.__new__(cls)
        instance.__dict__.update(state)
    bound = getattr(instance, operation)
    takes_input = bool(inspect.signature(bound).parameters)
    result = bound(context.get_input()) if takes_input else bound()
    context.set_result(result)
    context.set_state(vars(instance))
