"""Registering the functions of an Azure Functions app (``azure.functions.FunctionApp``,
``azure.durable_functions.DFApp``, with their blueprints) as Perdura functions.

The app is read through the SDK's own metadata, as the Functions host reads it: each
function's name, its registered callable and its bindings (``get_functions()``). Each binding
this module knows becomes the Perdura declaration that matches it, through Perdura's own
``FunctionApp`` (so a bad route or schedule is refused with the function's name, as for a
Perdura app); a binding it does not know stops the start with the function's name and the
binding's type. The callables are wrapped so that each gets what it would get on Azure: an
``azure.functions.HttpRequest``, ``TimerRequest`` or ``QueueMessage``, an activity's input as
the SDK decodes it, an orchestrator's context as JSON (functions/azure/orchestrator.py), an
entity's batch as JSON.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Any

from asgiref.sync import async_to_sync

from functions import bindings
from functions.azure.orchestrator import SdkOrchestration
from functions.registry import FunctionApp, RegistrationError
from orchestrations.engine.serialization import loads

#: Binding types read here; every other one is refused at start.
TRIGGERS = ("httpTrigger", "timerTrigger", "queueTrigger", "orchestrationTrigger", "activityTrigger", "entityTrigger")
OUTPUTS = ("http", "queue")


#: Makes the JSON of a durableClient binding for a function's name: handed down by the API
#: layer (orchestrations/api/inprocess.py), which this layer cannot import.
_client_binding: Callable[[str], str] | None = None


def use_client_binding(factory: Callable[[str], str]) -> None:
    global _client_binding
    _client_binding = factory


class UnsupportedBindingError(RegistrationError):
    """A function of an Azure app uses a binding Perdura has no counterpart for."""


def azure_apps(module: ModuleType) -> list[Any]:
    """The Azure function apps a module holds (none when it never imported azure.functions)."""
    import sys

    decorators = sys.modules.get("azure.functions.decorators.function_app")
    if decorators is None:
        return []
    return [value for value in vars(module).values() if isinstance(value, decorators.FunctionRegister)]


def register_azure_apps(module: ModuleType) -> int:
    """Register the functions of every Azure app in ``module``; how many."""
    count = 0
    for azure_app in azure_apps(module):
        app = FunctionApp(module.__name__, http_auth_level=_level(getattr(azure_app, "auth_level", "function")))
        for function in _functions_of(azure_app):
            _register(app, function)
            count += 1
    return count


def _functions_of(azure_app: Any) -> list[Any]:
    # get_functions() remembers the names it has seen and refuses them a second time: once per app.
    functions = getattr(azure_app, "_perdura_functions", None)
    if functions is None:
        functions = azure_app.get_functions()
        azure_app._perdura_functions = functions
    return functions


def _register(app: FunctionApp, function: Any) -> None:
    name = function.get_function_name()
    where = f"function {name!r} (in the Azure function app of module {app.name!r})"
    user_function = function.get_user_function()
    found = [_resolved(_binding_dict(binding), where) for binding in function.get_bindings()]
    unsupported = [b for b in found if b["type"] not in TRIGGERS + OUTPUTS and b["type"] != "durableClient"]
    if unsupported:
        kinds = ", ".join(sorted({b["type"] for b in unsupported}))
        raise UnsupportedBindingError(
            f"{where}: Perdura has no {kinds} binding; see the README's table of supported bindings "
            "(HTTP, timer and queue triggers, queue output, durable client and the durable triggers)"
        )
    trigger = next(b for b in found if b["type"] in TRIGGERS)
    outputs = [b for b in found if b["type"] == "queue"]
    clients = [b["name"] for b in found if b["type"] == "durableClient"]
    kind = trigger["type"]
    if clients and kind not in ("httpTrigger", "timerTrigger", "queueTrigger", "activityTrigger"):
        raise UnsupportedBindingError(
            f"{where}: a durableClient binding goes on an HTTP, timer, queue or activity function"
        )
    if kind == "orchestrationTrigger":
        alias = trigger.get("orchestration") or name
        orchestrator = SdkOrchestration.orchestrator(user_function, alias)
        _named_after(orchestrator, getattr(user_function, "orchestrator_function", user_function), alias)
        app.orchestrator(orchestrator, name=alias)
    elif kind == "activityTrigger":
        alias = trigger.get("activity") or name
        app.activity(_activity(user_function, trigger["name"], alias, clients), name=alias)
    elif kind == "entityTrigger":
        alias = trigger.get("entityName") or name
        app.entity(_entity(user_function, alias), name=alias)
    else:
        http_output = next((b["name"] for b in found if b["type"] == "http"), "$return")
        _register_triggered(app, name, user_function, trigger, outputs, clients, http_output)


def _register_triggered(
    app: FunctionApp,
    name: str,
    user_function: Callable[..., Any],
    trigger: dict[str, Any],
    outputs: list[dict],
    clients: list[str],
    http_output: str,
) -> None:
    arg_name = trigger["name"]
    convert = {"httpTrigger": _http_request, "timerTrigger": _timer_request, "queueTrigger": _queue_message}[
        trigger["type"]
    ]
    is_http = trigger["type"] == "httpTrigger"
    wrapped = _triggered(user_function, arg_name, convert, is_http, name, clients, http_output)
    decorated: Callable[..., Any] = wrapped
    for output in outputs:
        decorated = app.queue_output(arg_name=output["name"], queue_name=output["queueName"])(decorated)
    if trigger["type"] == "httpTrigger":
        methods = trigger.get("methods")
        decorated = app.route(
            route=trigger.get("route") or name,
            trigger_arg_name=arg_name,
            methods=methods or None,
            auth_level=trigger.get("authLevel"),
        )(decorated)
    elif trigger["type"] == "timerTrigger":
        decorated = app.timer_trigger(
            arg_name=arg_name,
            schedule=trigger["schedule"],
            run_on_startup=trigger.get("runOnStartup"),
            use_monitor=trigger.get("useMonitor"),
        )(decorated)
    else:
        decorated = app.queue_trigger(arg_name=arg_name, queue_name=trigger["queueName"])(decorated)
    app.function_name(name)(decorated)


# The callables.


def _triggered(
    user_function: Callable[..., Any],
    arg_name: str,
    convert: Callable[[Any], Any],
    is_http: bool,
    name: str,
    clients: list[str],
    http_output: str = "$return",
) -> Callable[..., Any]:
    """The user's function, taking Perdura's trigger value as Azure's object (and answering an
    Azure HttpResponse as Perdura's, returned or set on an ``Out`` binding); a durableClient
    binding gets the binding's JSON, from which the SDK makes its own client."""

    @functools.wraps(user_function)
    def run(**kwargs: Any) -> Any:
        kwargs[arg_name] = convert(kwargs[arg_name])
        _bind_clients(kwargs, clients, name)
        answer = None
        if is_http and http_output != "$return":
            answer = kwargs[http_output] = bindings.Out()
        result = _awaited(user_function(**kwargs))
        if answer is not None:
            result = answer.get()
        return _http_response(result) if is_http else result

    run.__signature__ = inspect.signature(user_function)  # type: ignore[attr-defined]
    del run.__wrapped__  # Perdura should run this wrapper, not look through it to the user's function.
    return run


def _bind_clients(kwargs: dict[str, Any], clients: list[str], name: str) -> None:
    for client_name in clients:
        if _client_binding is None:
            raise RuntimeError("no durable client binding is available in this process")
        kwargs[client_name] = _client_binding(name)


def _activity(
    user_function: Callable[..., Any], input_name: str, name: str, clients: list[str] | None = None
) -> Callable[[Any], Any]:
    """An activity as the SDK's worker runs it: the input decoded by ``df_loads`` (so classes
    with to_json/from_json come back as themselves), passed by its binding's name, and the
    result encoded by ``df_dumps``."""
    from azure.functions._durable_functions import _deserialize_custom_object, _serialize_custom_object

    def run(value: Any) -> Any:
        kwargs = {input_name: json.loads(json.dumps(value), object_hook=_deserialize_custom_object)}
        _bind_clients(kwargs, clients or [], name)
        result = _awaited(user_function(**kwargs))
        return json.loads(json.dumps(result, default=_serialize_custom_object))

    _named_after(run, user_function, name)
    return run


def _entity(handle: Callable[[str], str], name: str) -> Callable[[Any], None]:
    """An entity run through the SDK's batch protocol, one operation per batch: the state and
    the operation in, the state and the operation's result out."""
    from entities.engine import EntityContext

    def run(context: EntityContext) -> None:
        request = {
            "self": {"name": context.entity_name, "key": context.entity_key},
            "exists": context._state is not None,
            "state": context._state,
            "batch": [{"name": context.operation_name, "input": json.dumps(context._input or "null"), "signal": False}],
        }
        answer = json.loads(handle(json.dumps(request)))
        [result] = answer["results"]
        if not answer.get("entityExists"):
            context.destruct_on_exit()
        elif answer.get("entityState") is not None:
            context.set_state(json.loads(answer["entityState"]))
        value = loads(result.get("result"))
        if result.get("isError"):
            raise AzureEntityOperationError(str(value))
        context.set_result(value)

    _named_after(run, getattr(handle, "entity_function", handle), name)
    return run


def _named_after(wrapper: Callable[..., Any], user_function: Callable[..., Any], name: str) -> None:
    """The wrapper shows the user's function where functions are listed (its module, its doc)."""
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__module__ = getattr(user_function, "__module__", wrapper.__module__)
    wrapper.__doc__ = getattr(user_function, "__doc__", None)


class AzureEntityOperationError(Exception):
    """An entity operation of an Azure app raised: its message, as the SDK reported it."""


def _awaited(value: Any) -> Any:
    if inspect.isawaitable(value):
        return async_to_sync(_await)(value)
    return value


async def _await(value: Any) -> Any:
    return await value


# Azure's objects.


def _http_request(request: bindings.HttpRequest) -> Any:
    import azure.functions as func

    return func.HttpRequest(
        request.method,
        request.url,
        headers=dict(request.headers),
        params=dict(request.params),
        route_params=dict(request.route_params),
        body=request.get_body(),
    )


def _http_response(value: Any) -> Any:
    import azure.functions as func

    if not isinstance(value, func.HttpResponse):
        return value  # A str, bytes, None or JSON data: Perdura answers them as Azure does.
    return bindings.HttpResponse(
        value.get_body(),
        status_code=value.status_code,
        headers=dict(value.headers),
        mimetype=value.mimetype,
        charset=value.charset,
    )


def _timer_request(request: bindings.TimerRequest) -> Any:
    from azure.functions.timer import TimerRequest

    return TimerRequest(past_due=request.past_due)


def _queue_message(message: bindings.QueueMessage) -> Any:
    from azure.functions.queue import QueueMessage

    return QueueMessage(
        id=message.id,
        body=message.get_body(),
        dequeue_count=message.dequeue_count,
        expiration_time=message.expiration_time,
        insertion_time=message.insertion_time,
        time_next_visible=message.time_next_visible,
        pop_receipt=message.pop_receipt,
    )


# The SDK's metadata.


_SETTING_REFERENCE = re.compile(r"%([^%]+)%")


def _resolved(binding: dict[str, Any], where: str) -> dict[str, Any]:
    """``%NAME%`` in a binding's text stands for the app setting NAME, as on Azure: here an
    environment variable (local.settings.json's Values become ones)."""

    def setting(matched: re.Match[str]) -> str:
        value = os.environ.get(matched.group(1))
        if value is None:
            raise RegistrationError(
                f"{where}: the {binding.get('type')} binding refers to the app setting {matched.group(1)!r}, "
                "which is not set (set it in the environment or in local.settings.json's Values)"
            )
        return value

    return {
        key: _SETTING_REFERENCE.sub(setting, value) if isinstance(value, str) and key != "type" else value
        for key, value in binding.items()
    }


def _binding_dict(binding: Any) -> dict[str, Any]:
    """A binding as the Functions host reads it (function.json's camelCase keys, enums as
    their values)."""
    raw = binding.get_dict_repr()
    return {key: _plain(value) for key, value in raw.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "value", value)


def _level(level: Any) -> str:
    return str(getattr(level, "value", level) or "function").lower()
