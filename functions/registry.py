"""Function apps: the registry user code writes against.

A function app is a Python module that creates a ``FunctionApp`` and decorates its
orchestrators, activities and entities. Settings name the modules
(``PERDURA_FUNCTION_APPS``); importing them fills the registry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from orchestrations.engine.limits import MAX_NAME_LENGTH, check_name

F = TypeVar("F", bound=Callable[..., Any])


class FunctionKind(StrEnum):
    ORCHESTRATOR = "orchestrator"
    ACTIVITY = "activity"
    ENTITY = "entity"


class UnknownFunctionError(LookupError):
    """No function of that kind and name is registered."""


class DuplicateFunctionError(ValueError):
    """Two function apps register a function of one kind under one name."""


@dataclass(frozen=True)
class RegisteredFunction:
    app_name: str
    name: str
    kind: FunctionKind
    func: Callable[..., Any]

    @property
    def module(self) -> str:
        return getattr(self.func, "__module__", "")


class FunctionApp:
    """A named group of durable functions. ``@app.orchestrator``, ``@app.activity`` and
    ``@app.entity`` register the decorated function under its own name or ``name=``."""

    def __init__(self, name: str) -> None:
        if not name or not isinstance(name, str):
            raise ValueError("a function app needs a non-empty name")
        self.name = check_name(name, "a function app's name")
        self.functions: dict[tuple[FunctionKind, str], RegisteredFunction] = {}
        registry.add_app(self)

    def orchestrator(self, func: F | None = None, *, name: str | None = None) -> Any:
        return self._decorator(FunctionKind.ORCHESTRATOR, func, name)

    def activity(self, func: F | None = None, *, name: str | None = None) -> Any:
        return self._decorator(FunctionKind.ACTIVITY, func, name)

    def entity(self, func: F | None = None, *, name: str | None = None) -> Any:
        return self._decorator(FunctionKind.ENTITY, func, name)

    def _decorator(self, kind: FunctionKind, func: F | None, name: str | None) -> Any:
        def register(target: F) -> F:
            chosen = name or target.__name__
            check_name(chosen, f"the {kind} name {chosen[:MAX_NAME_LENGTH]!r} (in function app {self.name!r})")
            function = RegisteredFunction(self.name, _normalized(kind, chosen), kind, target)
            registry.add_function(self, function)
            return target

        return register(func) if func is not None else register


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.apps: dict[str, FunctionApp] = {}
        self._functions: dict[tuple[FunctionKind, str], RegisteredFunction] = {}

    def add_app(self, app: FunctionApp) -> None:
        with self._lock:
            previous = self.apps.get(app.name)
            if previous is not None:
                # A module imported again (a reload, a test) replaces its app wholesale.
                for key in previous.functions:
                    self._functions.pop(key, None)
            self.apps[app.name] = app

    def add_function(self, app: FunctionApp, function: RegisteredFunction) -> None:
        key = (function.kind, function.name)
        with self._lock:
            existing = self._functions.get(key)
            if existing is not None and existing.app_name != app.name:
                raise DuplicateFunctionError(
                    f"{function.kind} {function.name!r} is registered by function apps "
                    f"{existing.app_name!r} and {app.name!r}; names must be unique"
                )
            app.functions[key] = function
            self._functions[key] = function

    def get(self, kind: FunctionKind, name: str) -> RegisteredFunction:
        try:
            return self._functions[(kind, _normalized(kind, name))]
        except KeyError:
            known = ", ".join(sorted(n for k, n in self._functions if k == kind)) or "none"
            raise UnknownFunctionError(f"no {kind} named {name!r} is registered (known: {known})") from None

    def has(self, kind: FunctionKind, name: str) -> bool:
        return (kind, _normalized(kind, name)) in self._functions

    def names(self, kind: FunctionKind) -> list[str]:
        return sorted(name for k, name in self._functions if k == kind)


def _normalized(kind: FunctionKind, name: str) -> str:
    # Entity names are case-insensitive, as in Durable Functions: `Account` is `account`.
    return name.lower() if kind == FunctionKind.ENTITY else name


registry = Registry()
