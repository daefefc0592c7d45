"""call_http: durable HTTP requests, including the 202 Accepted polling pattern."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from orchestrations.engine import DurableHttpResponse, OrchestrationStatus
from orchestrations.engine.actions import CreateTimer, ScheduleActivity
from tests.orchestrations.engine.builder import START, OrchestrationRun

HTTP_ACTIVITY = "BuiltIn::HttpActivity"


def fetch_report(ctx):
    response = yield ctx.call_http("GET", "https://reports.example/start", headers={"Authorization": "Bearer t"})
    return {"status": response.status_code, "content": response.content}


def request_of(action: ScheduleActivity) -> dict:
    assert action.name == HTTP_ACTIVITY
    return json.loads(action.input)


def test_call_http_schedules_the_built_in_http_activity_with_the_request():
    run = OrchestrationRun(fetch_report)

    result = run.run_episode()

    [action] = result.actions
    assert action.task_id == 0
    assert request_of(action) == {
        "method": "GET",
        "uri": "https://reports.example/start",
        "content": None,
        "headers": {"Authorization": "Bearer t"},
        "asynchronous_patterns": True,
    }


def test_method_is_upper_cased_and_content_is_sent_as_json():
    def orchestrator(ctx):
        yield ctx.call_http("post", "https://api.example/orders", content={"sku": "X1", "qty": 2})

    result = OrchestrationRun(orchestrator).run_episode()

    request = request_of(result.actions[0])
    assert request["method"] == "POST"
    assert request["content"] == '{"sku":"X1","qty":2}'


def test_raw_string_content_is_sent_as_it_is():
    def orchestrator(ctx):
        yield ctx.call_http("POST", "https://api.example/raw", content="a,b,c", is_raw_str=True)

    result = OrchestrationRun(orchestrator).run_episode()

    assert request_of(result.actions[0])["content"] == "a,b,c"


def test_200_response_is_returned_directly_as_a_durable_http_response():
    seen = {}

    def orchestrator(ctx):
        seen["response"] = yield ctx.call_http("GET", "https://reports.example/1")

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(0, {"status_code": 200, "headers": {"X-Id": "1"}, "content": "ok"}).run_episode()

    assert seen["response"] == DurableHttpResponse(200, {"X-Id": "1"}, "ok")
    assert result.actions == []
    assert run.status == OrchestrationStatus.COMPLETED


def test_202_with_location_waits_on_a_durable_timer_of_the_default_poll_interval():
    run = OrchestrationRun(fetch_report, http_poll_seconds=7)
    run.run_episode()

    accepted = {"status_code": 202, "headers": {"Location": "https://reports.example/1"}}
    result = run.complete_activity(0, accepted).run_episode()

    assert result.actions == [CreateTimer(1, START + timedelta(seconds=7))]
    assert result.completion is None


def test_202_with_retry_after_waits_that_many_seconds():
    run = OrchestrationRun(fetch_report)
    run.run_episode()

    accepted = {"status_code": 202, "headers": {"location": "https://reports.example/1", "retry-after": "30"}}
    result = run.complete_activity(0, accepted).run_episode()

    assert result.actions == [CreateTimer(1, START + timedelta(seconds=30))]


def test_after_the_poll_timer_fires_the_location_is_requested_with_get():
    run = OrchestrationRun(fetch_report)
    run.run_episode()
    run.complete_activity(0, {"status_code": 202, "headers": {"Location": "https://reports.example/1"}})
    run.run_episode()

    result = run.fire_timer(1).run_episode()

    [poll] = result.actions
    assert poll.task_id == 2
    assert request_of(poll) == {
        "method": "GET",
        "uri": "https://reports.example/1",
        "headers": {"Authorization": "Bearer t"},
    }


def test_polling_goes_on_until_the_location_answers_otherwise_than_202():
    run = OrchestrationRun(fetch_report)
    run.run_episode()
    still_running = {"status_code": 202, "headers": {"Location": "https://reports.example/1", "Retry-After": "2"}}
    run.complete_activity(0, still_running).run_episode()
    run.fire_timer(1).run_episode()

    second_wait = run.complete_activity(2, still_running).run_episode()
    run.fire_timer(3).run_episode()
    run.complete_activity(4, {"status_code": 200, "content": "report body"}).run_episode()

    assert [type(action) for action in second_wait.actions] == [CreateTimer]
    assert run.output == {"status": 200, "content": "report body"}


def test_202_without_location_is_returned_as_it_is():
    run = OrchestrationRun(fetch_report)
    run.run_episode()

    result = run.complete_activity(0, {"status_code": 202, "content": "queued"}).run_episode()

    assert result.actions == []
    assert run.output == {"status": 202, "content": "queued"}


def test_202_is_returned_as_it_is_when_asynchronous_patterns_are_off():
    def orchestrator(ctx):
        response = yield ctx.call_http("GET", "https://reports.example/start", asynchronous_patterns=False)
        return response.status_code

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    accepted = {"status_code": 202, "headers": {"Location": "https://reports.example/1"}}
    result = run.complete_activity(0, accepted).run_episode()

    assert result.actions == []
    assert run.output == 202


def test_failed_http_request_raises_in_the_orchestrator():
    run = OrchestrationRun(fetch_report)
    run.run_episode()

    run.fail_activity(0, ConnectionError("connection refused")).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "ConnectionError: connection refused" in run.failure.message


def test_token_source_is_refused():
    def orchestrator(ctx):
        yield ctx.call_http("GET", "https://api.example/", token_source=object())

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    assert run.failure.error_type == "NotImplementedError"


@pytest.mark.parametrize(
    ("retry_after", "seconds"), [("12.5", 12.5), ("-3", 0), ("Wed, 21 Oct 2015 07:28:00 GMT", 5.0)]
)
def test_retry_after_parsing(retry_after, seconds):
    response = DurableHttpResponse(202, {"Retry-After": retry_after})

    assert response.retry_after_seconds(default=5.0) == seconds


@pytest.mark.parametrize(
    "malformed",
    [
        {"status_code": None, "content": "a file:// answer had no status"},
        {"headers": {}},
        {"status_code": "two hundred"},
        "not a response at all",
    ],
)
def test_a_malformed_http_result_fails_the_call_which_the_orchestrator_can_catch(malformed):
    def orchestrator(ctx):
        try:
            yield ctx.call_http("GET", "https://reports.example/1")
        except Exception as error:
            return f"caught {type(error).__name__}"
        return "not caught"

    run = OrchestrationRun(orchestrator)
    run.run_episode()

    result = run.complete_activity(0, malformed).run_episode()

    assert run.status == OrchestrationStatus.COMPLETED
    assert run.output == "caught TaskFailedError"
    assert result.actions == []


def test_a_malformed_http_result_fails_the_instance_when_not_caught():
    run = OrchestrationRun(fetch_report)
    run.run_episode()

    run.complete_activity(0, {"status_code": None}).run_episode()

    assert run.status == OrchestrationStatus.FAILED
    assert "call_http got a malformed response" in run.failure.message
