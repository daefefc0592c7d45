"""Declaring functions run by events: Azure's decorator names, in any order, and registration
errors that name the function and what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions import AuthLevel, FunctionApp, FunctionKind, RegistrationError
from functions.registry import DuplicateFunctionError, HttpTrigger, QueueTrigger, TimerTrigger


def test_an_http_function_is_declared_as_on_azure_with_its_bindings_in_any_order(fresh_registry):
    app = FunctionApp("shop", http_auth_level=AuthLevel.ANONYMOUS)

    @app.function_name(name="GetOrder")
    @app.route(route="orders/{id:int}", methods=["get"])
    @app.queue_output(arg_name="audit", queue_name="order-audit")
    @app.durable_client_input(client_name="client")
    async def get_order(req, audit, client):
        return None

    function = fresh_registry.find("GetOrder")
    assert function.kind == FunctionKind.HTTP
    assert function.func is get_order and function.is_async
    assert isinstance(function.trigger, HttpTrigger)
    assert function.trigger.arg_name == "req"
    assert function.trigger.methods == {"GET"}
    assert function.trigger.auth_level == AuthLevel.ANONYMOUS
    assert [(output.arg_name, output.queue_name) for output in function.outputs] == [("audit", "order-audit")]
    assert function.client.client_name == "client"
    # Renamed by function_name after the trigger registered it: only the new name remains.
    assert not fresh_registry.has(FunctionKind.HTTP, "get_order")


def test_bindings_above_the_trigger_are_kept_too(fresh_registry):
    app = FunctionApp("shop")

    @app.queue_output(arg_name="out", queue_name="shipped")
    @app.queue_trigger(arg_name="msg", queue_name="orders")
    def ship(msg, out):
        return None

    function = fresh_registry.find("ship")
    assert isinstance(function.trigger, QueueTrigger)
    assert function.trigger.queue_name == "orders"
    assert function.outputs[0].queue_name == "shipped"


def test_the_default_auth_level_is_the_apps_and_functions_by_default(fresh_registry):
    default_app = FunctionApp("a")
    open_app = FunctionApp("b", http_auth_level="anonymous")

    @default_app.route(route="one")
    def one(req):
        return "1"

    @open_app.route(route="two", auth_level=AuthLevel.ADMIN)
    def two(req):
        return "2"

    @open_app.route()
    def three(req):
        return "3"

    assert fresh_registry.find("one").trigger.auth_level == AuthLevel.FUNCTION
    assert fresh_registry.find("two").trigger.auth_level == AuthLevel.ADMIN
    assert fresh_registry.find("three").trigger.auth_level == AuthLevel.ANONYMOUS
    # Without a route, the function's name is its route, as on Azure.
    assert fresh_registry.find("three").trigger.route.match("three") == {}


def test_a_timer_function_takes_ncrontab_cron_and_intervals(fresh_registry):
    app = FunctionApp("jobs")

    @app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer", run_on_startup=True)
    def every_five_minutes(timer):
        return None

    @app.schedule(schedule="30 2 * * *", arg_name="timer")
    def nightly(timer):
        return None

    @app.timer_trigger(schedule="00:00:10", arg_name="timer")
    def every_ten_seconds(timer):
        return None

    trigger = fresh_registry.find("every_five_minutes").trigger
    assert isinstance(trigger, TimerTrigger) and trigger.run_on_startup and trigger.use_monitor
    moment = datetime(2026, 12, 3, 11, 2, 3, tzinfo=UTC)
    assert trigger.schedule.upcoming(moment, 2) == [
        moment.replace(minute=5, second=0),
        moment.replace(minute=10, second=0),
    ]
    assert fresh_registry.find("nightly").trigger.schedule.next_after(moment) == datetime(
        2026, 12, 4, 2, 30, tzinfo=UTC
    )
    assert fresh_registry.find("every_ten_seconds").trigger.schedule.next_after(moment) == moment.replace(second=10)


def test_activities_take_a_concurrency_limit(fresh_registry):
    app = FunctionApp("jobs")

    @app.activity(max_concurrency=2)
    def resize(image):
        return image

    assert fresh_registry.get(FunctionKind.ACTIVITY, "resize").max_concurrency == 2


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (
            lambda app: app.timer_trigger(schedule="61 * * * *", arg_name="timer")(lambda timer: None),
            r"function '<lambda>' \(in function app 'bad'\): the schedule '61 \* \* \* \*' is not a valid cron",
        ),
        (
            lambda app: app.timer_trigger(schedule="* * *", arg_name="timer")(lambda timer: None),
            r"the schedule '\* \* \*' has 3 fields",
        ),
        (
            lambda app: app.timer_trigger(schedule="00:00:00", arg_name="timer")(lambda timer: None),
            r"the interval '00:00:00' must be longer than zero",
        ),
        (
            lambda app: app.route(route="orders/{id:number}")(lambda req: None),
            r"unknown constraint 'number'",
        ),
        (
            lambda app: app.route(route="orders/{id")(lambda req: None),
            r"malformed parameter '\{id'",
        ),
        (
            lambda app: app.route(route="{rest?}/orders")(lambda req: None),
            r"only the last parameter may be optional",
        ),
        (
            lambda app: app.route(route="x", methods=["FETCH"])(lambda req: None),
            r"'FETCH' is not an HTTP method",
        ),
        (
            lambda app: app.route(route="x", auth_level="user")(lambda req: None),
            r"the auth level 'user' is not one of anonymous, function, admin",
        ),
        (
            lambda app: app.queue_trigger(arg_name="msg", queue_name="Orders_Q")(lambda msg: None),
            r"the queue name 'Orders_Q' is not valid",
        ),
        (
            lambda app: app.queue_trigger(arg_name="message", queue_name="orders")(lambda msg: None),
            r"the binding 'message' is not a parameter of the function \(its parameters: msg\)",
        ),
        (
            lambda app: app.durable_client_input(client_name="starter")(lambda req, client: None),
            r"the binding 'starter' is not a parameter",
        ),
        (
            lambda app: app.activity(max_concurrency=0)(lambda value: None),
            r"max_concurrency is a whole number of at least 1, not 0",
        ),
        (
            lambda app: app.activity(app.queue_output(arg_name="out", queue_name="a-q")(lambda value, out: None)),
            r"output and durable client bindings go on HTTP, timer and queue functions",
        ),
    ],
)
def test_a_declaration_error_names_the_function_and_the_mistake(fresh_registry, declare, message):
    app = FunctionApp("bad")

    with pytest.raises(RegistrationError, match=message):
        declare(app)
    assert not fresh_registry.functions(FunctionKind.HTTP, FunctionKind.TIMER, FunctionKind.QUEUE)


def test_a_second_trigger_is_refused_and_the_first_stays(fresh_registry):
    app = FunctionApp("bad")

    def tick(msg):
        return None

    app.timer_trigger(schedule="00:01:00", arg_name="msg")(tick)
    with pytest.raises(RegistrationError, match=r"function 'tick' .*a function has one trigger, and this one has two"):
        app.queue_trigger(arg_name="msg", queue_name="a-q")(tick)

    assert isinstance(fresh_registry.find("tick").trigger, TimerTrigger)


def test_a_route_that_clashes_with_another_is_refused_naming_both(fresh_registry):
    app = FunctionApp("shop")

    @app.route(route="orders/{id:int}", methods=["GET"])
    def get_order(req):
        return None

    @app.route(route="orders/{number:int}", methods=["DELETE"])
    def delete_order(req):  # Same shape, other method: no clash.
        return None

    with pytest.raises(RegistrationError) as raised:

        @app.route(route="Orders/{order:int}/{detail?}", methods=["get", "post"])
        def order_detail(req):
            return None

    assert str(raised.value) == (
        "function 'order_detail' (in function app 'shop'): its route 'Orders/{order:int}/{detail?}' clashes with "
        "the route 'orders/{id:int}' of function 'get_order' (in function app 'shop')"
    )


def test_trigger_functions_share_one_namespace(fresh_registry):
    app = FunctionApp("shop")

    @app.route(route="report")
    def report(req):
        return None

    with pytest.raises(DuplicateFunctionError, match=r"timer function .report..*has the name of the http function"):

        @app.timer_trigger(schedule="00:01:00", arg_name="timer")
        def report(timer):
            return None


def test_routes_match_typed_optional_and_catch_all_parameters_without_case(fresh_registry):
    app = FunctionApp("files", http_auth_level="anonymous")

    @app.route(route="files/{*path}")
    def files(req):
        return None

    @app.route(route="users/{name:alpha}/{page:int?}")
    def users(req):
        return None

    @app.route(route="items/{id:guid}")
    def items(req):
        return None

    def match(name, path):
        return fresh_registry.find(name).trigger.route.match(path)

    assert match("files", "files/a/b c/d.txt") == {"path": "a/b c/d.txt"}
    assert match("files", "FILES") == {}
    assert match("users", "Users/ada") == {"name": "ada"}
    assert match("users", "users/ada/2/") == {"name": "ada", "page": "2"}
    assert match("users", "users/ada/two") is None
    assert match("users", "users/ada9") is None
    assert match("items", "items/0f8fad5b-d9cb-469f-a165-70867728950e") == {
        "id": "0f8fad5b-d9cb-469f-a165-70867728950e"
    }
    assert match("items", "items/42") is None


def test_interval_occurrences_are_the_same_on_every_worker():
    from functions.schedules import parse_schedule

    schedule = parse_schedule("00:00:07")
    moment = datetime(2026, 12, 3, 11, 2, 3, 500, tzinfo=UTC)
    following = schedule.next_after(moment)
    assert following > moment and following - moment <= timedelta(seconds=7)
    assert following.timestamp() % 7 == 0
    assert schedule.latest_at_or_before(following) == following
    assert schedule.next_after(following) == following + timedelta(seconds=7)


def test_cron_schedules_follow_the_configured_time_zone_daylight_saving_included():
    from functions.schedules import ScheduleError, parse_schedule

    schedule = parse_schedule("0 0 9 * * *", "Europe/Amsterdam")
    # 09:00 in Amsterdam is 08:00 UTC in winter and 07:00 UTC in summer.
    assert schedule.next_after(datetime(2026, 12, 3, tzinfo=UTC)) == datetime(2026, 12, 3, 8, tzinfo=UTC)
    assert schedule.next_after(datetime(2026, 7, 3, tzinfo=UTC)) == datetime(2026, 7, 3, 7, tzinfo=UTC)
    with pytest.raises(ScheduleError, match="the time zone 'Mars/Olympus' is unknown"):
        parse_schedule("0 0 9 * * *", "Mars/Olympus")


@pytest.mark.parametrize("variable", ["AzureWebJobs.nightly.Disabled", "AzureWebJobs__nightly__Disabled"])
def test_azures_disabled_setting_disables_a_function(fresh_registry, monkeypatch, variable):
    app = FunctionApp("jobs")

    @app.timer_trigger(schedule="0 0 2 * * *", arg_name="timer")
    def nightly(timer):
        return None

    function = fresh_registry.find("nightly")
    assert not function.is_disabled
    monkeypatch.setenv(variable, "True")
    assert function.is_disabled
    monkeypatch.setenv(variable, "false")
    assert not function.is_disabled
