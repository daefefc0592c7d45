"""Function apps: the registry user code writes against.

A function app is a Python module that creates a ``FunctionApp`` and decorates its
functions: orchestrators, activities and entities, and functions run by HTTP requests,
schedules and queue messages. Settings name the modules (``PERDURA_FUNCTION_APPS``);
importing them fills the registry. Every mistake in a declaration is an error at import,
naming the function.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from functions.bindings import AuthLevel, HttpMethod
from functions.routes import Route, RouteError, parse_route
from functions.schedules import Schedule, ScheduleError, parse_schedule
from orchestrations.engine.limits import MAX_NAME_LENGTH, check_name

F = TypeVar("F", bound=Callable[..., Any])


class FunctionKind(StrEnum):
    ORCHESTRATOR = "orchestrator"
    ACTIVITY = "activity"
    ENTITY = "entity"
    HTTP = "http"
    TIMER = "timer"
    QUEUE = "queue"


#: Functions run by an event; each is also run by hand (``durable invoke``), by its name.
TRIGGER_KINDS = (FunctionKind.HTTP, FunctionKind.TIMER, FunctionKind.QUEUE)


class UnknownFunctionError(LookupError):
    """No function of that kind and name is registered."""


class DuplicateFunctionError(ValueError):
    """Two function apps register a function of one kind under one name."""


class RegistrationError(ValueError):
    """A function declared wrongly: the message names the function and what is wrong."""


@dataclass(frozen=True)
class HttpTrigger:
    arg_name: str
    route: Route
    #: Upper-case method names; empty for every method.
    methods: frozenset[str]
    auth_level: AuthLevel

    def allows(self, method: str) -> bool:
        return not self.methods or method.upper() in self.methods


@dataclass(frozen=True)
class TimerTrigger:
    arg_name: str
    schedule: Schedule
    run_on_startup: bool = False
    use_monitor: bool = True


@dataclass(frozen=True)
class QueueTrigger:
    arg_name: str
    queue_name: str


@dataclass(frozen=True)
class QueueOutput:
    arg_name: str
    queue_name: str


@dataclass(frozen=True)
class DurableClientInput:
    client_name: str


Trigger = HttpTrigger | TimerTrigger | QueueTrigger


@dataclass(frozen=True)
class RegisteredFunction:
    app_name: str
    name: str
    kind: FunctionKind
    func: Callable[..., Any]
    trigger: Trigger | None = None
    outputs: tuple[QueueOutput, ...] = ()
    client: DurableClientInput | None = None
    #: At most this many runs at once across every worker (None: no limit).
    max_concurrency: int | None = None

    @property
    def module(self) -> str:
        return getattr(self.func, "__module__", "")

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    @property
    def is_disabled(self) -> bool:
        """Azure's app setting ``AzureWebJobs.<name>.Disabled`` (``AzureWebJobs__<name>__Disabled``
        where a variable name cannot hold dots) set to true: its trigger is ignored (no HTTP
        route, no timer, no queue consumer), while a run by hand still works."""
        for variable in (f"AzureWebJobs.{self.name}.Disabled", f"AzureWebJobs__{self.name}__Disabled"):
            if os.environ.get(variable, "").strip().lower() in ("true", "1"):
                return True
        return False


@dataclass
class _Declaration:
    """What the decorators stacked on one function have said so far. Decorators apply bottom
    up, so a binding may arrive before or after its trigger; the function is (re)registered
    each time, once its kind is known."""

    kind: FunctionKind | None = None
    name: str | None = None
    trigger: Trigger | None = None
    outputs: tuple[QueueOutput, ...] = ()
    client: DurableClientInput | None = None
    max_concurrency: int | None = None
    registered: tuple[FunctionKind, str] | None = None


class FunctionApp:
    """A named group of functions: ``@app.orchestrator``, ``@app.activity`` and ``@app.entity``
    for durable functions; ``@app.route``, ``@app.timer_trigger`` and ``@app.queue_trigger``
    (with ``@app.queue_output`` and ``@app.durable_client_input``) for functions run by
    events, under the names of Azure Functions' Python v2 model. A function is registered
    under its own name, ``name=`` or ``@app.function_name(...)``."""

    def __init__(self, name: str | None = None, *, http_auth_level: AuthLevel | str = AuthLevel.FUNCTION) -> None:
        if name is None:
            # Azure's FunctionApp has no name: the module that creates it names it.
            name = sys._getframe(1).f_globals.get("__name__", "") or "default"
        if not name or not isinstance(name, str):
            raise ValueError("a function app needs a non-empty name")
        self.name = check_name(name, "a function app's name")
        self.http_auth_level = _auth_level(http_auth_level, f"function app {self.name!r}")
        self.functions: dict[tuple[FunctionKind, str], RegisteredFunction] = {}
        registry.add_app(self)

    # Durable functions.

    def orchestrator(self, func: F | None = None, *, name: str | None = None) -> Any:
        return self._kind_decorator(FunctionKind.ORCHESTRATOR, func, name, None)

    def activity(self, func: F | None = None, *, name: str | None = None, max_concurrency: int | None = None) -> Any:
        return self._kind_decorator(FunctionKind.ACTIVITY, func, name, max_concurrency)

    def entity(self, func: F | None = None, *, name: str | None = None) -> Any:
        return self._kind_decorator(FunctionKind.ENTITY, func, name, None)

    # Functions run by events.

    def function_name(self, name: str, setting_extra_fields: dict[str, Any] | None = None) -> Callable[[F], F]:
        def decorate(target: F) -> F:
            declaration = _declaration(target)
            declaration.name = name
            self._register(target, declaration)
            return target

        return decorate

    def route(
        self,
        route: str | None = None,
        trigger_arg_name: str = "req",
        binding_arg_name: str = "$return",
        methods: Iterable[str] | None = None,
        auth_level: AuthLevel | str | None = None,
        trigger_extra_fields: dict[str, Any] | None = None,
        binding_extra_fields: dict[str, Any] | None = None,
        *,
        max_concurrency: int | None = None,
    ) -> Callable[[F], F]:
        def decorate(target: F) -> F:
            where = _where(target, self)
            if binding_arg_name != "$return":
                raise RegistrationError(f"{where}: the HTTP output binding is the return value ('$return') here")
            _check_parameter(target, trigger_arg_name, where)
            template = route if route is not None else target.__name__
            try:
                parsed = parse_route(template)
            except RouteError as error:
                raise RegistrationError(f"{where}: {error}") from None
            chosen = _methods(methods, where)
            level = _auth_level(auth_level, where) if auth_level is not None else self.http_auth_level
            trigger = HttpTrigger(trigger_arg_name, parsed, chosen, level)
            self._set_trigger(target, FunctionKind.HTTP, trigger, max_concurrency)
            return target

        return decorate

    def timer_trigger(
        self,
        arg_name: str,
        schedule: str,
        run_on_startup: bool | None = None,
        use_monitor: bool | None = None,
        data_type: Any = None,
        *,
        max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Callable[[F], F]:
        def decorate(target: F) -> F:
            where = _where(target, self)
            _check_parameter(target, arg_name, where)
            try:
                parsed = parse_schedule(schedule, _time_zone())
            except ScheduleError as error:
                raise RegistrationError(f"{where}: {error}") from None
            trigger = TimerTrigger(arg_name, parsed, bool(run_on_startup), use_monitor is not False)
            self._set_trigger(target, FunctionKind.TIMER, trigger, max_concurrency)
            return target

        return decorate

    schedule = timer_trigger

    def queue_trigger(
        self,
        arg_name: str,
        queue_name: str,
        connection: str | None = None,
        data_type: Any = None,
        *,
        max_concurrency: int | None = None,
        **kwargs: Any,
    ) -> Callable[[F], F]:
        def decorate(target: F) -> F:
            where = _where(target, self)
            _check_parameter(target, arg_name, where)
            trigger = QueueTrigger(arg_name, _queue_name(queue_name, where))
            self._set_trigger(target, FunctionKind.QUEUE, trigger, max_concurrency)
            return target

        return decorate

    def queue_output(
        self, arg_name: str, queue_name: str, connection: str | None = None, data_type: Any = None, **kwargs: Any
    ) -> Callable[[F], F]:
        def decorate(target: F) -> F:
            where = _where(target, self)
            _check_parameter(target, arg_name, where)
            declaration = _declaration(target)
            if any(output.arg_name == arg_name for output in declaration.outputs):
                raise RegistrationError(f"{where}: two output bindings are named {arg_name!r}")
            declaration.outputs = (*declaration.outputs, QueueOutput(arg_name, _queue_name(queue_name, where)))
            self._register(target, declaration)
            return target

        return decorate

    def durable_client_input(
        self, client_name: str, task_hub: str | None = None, connection_name: str | None = None
    ) -> Callable[[F], F]:
        def decorate(target: F) -> F:
            where = _where(target, self)
            _check_parameter(target, client_name, where)
            declaration = _declaration(target)
            declaration.client = DurableClientInput(client_name)
            self._register(target, declaration)
            return target

        return decorate

    # Registration.

    def _kind_decorator(self, kind: FunctionKind, func: F | None, name: str | None, max_concurrency: int | None) -> Any:
        def register(target: F) -> F:
            declaration = _declaration(target)
            declaration.kind = kind
            if name is not None:
                declaration.name = name
            declaration.max_concurrency = _limit(max_concurrency, _where(target, self))
            self._register(target, declaration)
            return target

        return register(func) if func is not None else register

    def _set_trigger(self, target: F, kind: FunctionKind, trigger: Trigger, max_concurrency: int | None) -> None:
        declaration = _declaration(target)
        if declaration.trigger is not None:
            raise RegistrationError(f"{_where(target, self)}: a function has one trigger, and this one has two")
        declaration.kind = kind
        declaration.trigger = trigger
        declaration.max_concurrency = _limit(max_concurrency, _where(target, self))
        self._register(target, declaration)

    def _register(self, target: F, declaration: _Declaration) -> None:
        if declaration.kind is None:
            return  # A binding below its trigger: registered when the trigger arrives.
        kind = declaration.kind
        chosen = declaration.name or target.__name__
        check_name(chosen, f"the {kind} name {chosen[:MAX_NAME_LENGTH]!r} (in function app {self.name!r})")
        if kind not in TRIGGER_KINDS and (declaration.outputs or declaration.client):
            raise RegistrationError(
                f"{_where(target, self)}: output and durable client bindings go on HTTP, timer and queue functions"
            )
        function = RegisteredFunction(
            self.name,
            _normalized(kind, chosen),
            kind,
            target,
            declaration.trigger,
            declaration.outputs,
            declaration.client,
            declaration.max_concurrency,
        )
        registry.add_function(self, function, replaces=declaration.registered)
        declaration.registered = (kind, function.name)


def _declaration(target: Callable[..., Any]) -> _Declaration:
    declaration = getattr(target, "__perdura_declaration__", None)
    if declaration is None:
        declaration = _Declaration()
        target.__perdura_declaration__ = declaration  # type: ignore[attr-defined]
    return declaration


def _where(target: Callable[..., Any], app: FunctionApp) -> str:
    declaration = getattr(target, "__perdura_declaration__", None)
    name = (declaration.name if declaration else None) or getattr(target, "__name__", repr(target))
    return f"function {name!r} (in function app {app.name!r})"


def _check_parameter(target: Callable[..., Any], arg_name: str, where: str) -> None:
    if not isinstance(arg_name, str) or not arg_name.isidentifier():
        raise RegistrationError(f"{where}: the binding name {arg_name!r} is not a Python identifier")
    parameters = inspect.signature(target).parameters
    if arg_name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    raise RegistrationError(
        f"{where}: the binding {arg_name!r} is not a parameter of the function "
        f"(its parameters: {', '.join(parameters) or 'none'})"
    )


def _methods(methods: Iterable[str] | None, where: str) -> frozenset[str]:
    if methods is None:
        return frozenset()
    if isinstance(methods, str):
        methods = [methods]
    chosen = set()
    for method in methods:
        text = str(getattr(method, "value", method)).upper()
        if text not in HttpMethod.__members__:
            raise RegistrationError(f"{where}: {method!r} is not an HTTP method")
        chosen.add(text)
    return frozenset(chosen)


def _auth_level(level: AuthLevel | str, where: str) -> AuthLevel:
    try:
        return AuthLevel(str(getattr(level, "value", level)).lower())
    except ValueError:
        raise RegistrationError(
            f"{where}: the auth level {level!r} is not one of {', '.join(item.value for item in AuthLevel)}"
        ) from None


def _limit(value: int | None, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RegistrationError(f"{where}: max_concurrency is a whole number of at least 1, not {value!r}")
    return value


def _queue_name(name: str, where: str) -> str:
    try:
        return check_queue_name(name)
    except ValueError as error:
        raise RegistrationError(f"{where}: {error}") from None


def _time_zone() -> str:
    # The SDK reads the one setting it needs without Django: the environment, as settings do.
    return os.environ.get("PERDURA_TIMER_TIME_ZONE", "UTC") or "UTC"


_QUEUE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")


def check_queue_name(name: object) -> str:
    """Azure Storage's rule for queue names: 3 to 63 lower-case letters, digits and single
    hyphens, starting and ending with a letter or digit."""
    if not isinstance(name, str) or not 3 <= len(name) <= 63 or not _QUEUE_NAME.match(name):
        shown = name[:80] if isinstance(name, str) else name
        raise ValueError(
            f"the queue name {shown!r} is not valid: 3 to 63 lower-case letters, digits and single hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.apps: dict[str, FunctionApp] = {}
        self._functions: dict[tuple[FunctionKind, str], RegisteredFunction] = {}
        #: ``limits`` per kind, made when first asked for and dropped at every registration.
        self._limits: dict[FunctionKind, dict[str, int]] = {}
        #: Counts the registrations, so that what is computed from the functions can be cached
        #: until they change (``limits`` here, the HTTP functions' routing in functions/http/asgi.py).
        self.version = 0

    def add_app(self, app: FunctionApp) -> None:
        with self._lock:
            previous = self.apps.get(app.name)
            if previous is not None:
                # A module imported again (a reload, a test) replaces its app wholesale.
                for key in previous.functions:
                    self._functions.pop(key, None)
            self.apps[app.name] = app
            self._limits = {}
            self.version += 1

    def add_function(
        self, app: FunctionApp, function: RegisteredFunction, replaces: tuple[FunctionKind, str] | None = None
    ) -> None:
        key = (function.kind, function.name)
        with self._lock:
            existing = self._functions.get(key)
            if existing is not None and existing.app_name != app.name:
                raise DuplicateFunctionError(
                    f"{function.kind} {function.name!r} is registered by function apps "
                    f"{existing.app_name!r} and {app.name!r}; names must be unique"
                )
            if function.kind in TRIGGER_KINDS:
                self._check_trigger_name(function, replaces)
            if isinstance(function.trigger, HttpTrigger):
                self._check_route(function, replaces)
            if replaces is not None and replaces != key:
                self._functions.pop(replaces, None)
                app.functions.pop(replaces, None)
            app.functions[key] = function
            self._functions[key] = function
            self._limits = {}
            self.version += 1

    def _check_trigger_name(self, function: RegisteredFunction, replaces: tuple[FunctionKind, str] | None) -> None:
        for kind in TRIGGER_KINDS:
            other = self._functions.get((kind, function.name))
            if other is not None and (kind, function.name) not in (replaces, (function.kind, function.name)):
                raise DuplicateFunctionError(
                    f"{function.kind} function {function.name!r} (in function app {function.app_name!r}) has the name "
                    f"of the {other.kind} function in function app {other.app_name!r}; names must be unique"
                )

    def _check_route(self, function: RegisteredFunction, replaces: tuple[FunctionKind, str] | None) -> None:
        trigger = function.trigger
        assert isinstance(trigger, HttpTrigger)
        for key, other in self._functions.items():
            if key in (replaces, (function.kind, function.name)) or not isinstance(other.trigger, HttpTrigger):
                continue
            theirs = other.trigger
            shared = not trigger.methods or not theirs.methods or trigger.methods & theirs.methods
            if theirs.route.clashes_with(trigger.route) and shared:
                raise RegistrationError(
                    f"function {function.name!r} (in function app {function.app_name!r}): its route "
                    f"{trigger.route.template!r} clashes with the route {theirs.route.template!r} of function "
                    f"{other.name!r} (in function app {other.app_name!r})"
                )

    def functions(self, *kinds: FunctionKind) -> list[RegisteredFunction]:
        """The registered functions of ``kinds`` (every kind when none is given), by name."""
        return sorted(
            (function for (kind, _), function in self._functions.items() if not kinds or kind in kinds),
            key=lambda function: (function.name, function.kind),
        )

    def limits(self, kind: FunctionKind) -> dict[str, int]:
        """Function name -> ``max_concurrency`` of the functions of ``kind`` that have one. Read
        on every claim of work, so it is kept until the registry changes: a dict lookup, and an
        empty dict (nothing to check) when no function of the kind is limited."""
        limits = self._limits.get(kind)
        if limits is None:
            limits = {
                name: function.max_concurrency
                for (function_kind, name), function in self._functions.items()
                if function_kind == kind and function.max_concurrency is not None
            }
            self._limits[kind] = limits
        return limits

    def find(self, name: str) -> RegisteredFunction:
        """The function run by hand under ``name``: a trigger function, else an activity."""
        for kind in (*TRIGGER_KINDS, FunctionKind.ACTIVITY):
            function = self._functions.get((kind, name))
            if function is not None:
                return function
        raise UnknownFunctionError(f"no HTTP, timer, queue or activity function named {name!r} is registered")

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
