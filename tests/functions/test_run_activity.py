"""run_activity: an activity's outcome as the worker records it."""

from __future__ import annotations

import json

import pytest

from functions.activities import PayloadTooLargeError, check_payload_size, is_known_activity, run_activity


def test_a_successful_activity_returns_its_result_as_json():
    outcome = run_activity("echo", json.dumps({"a": [1, 2]}))

    assert outcome.failure is None
    assert json.loads(outcome.result) == {"a": [1, 2]}


def test_an_activity_returning_none_has_no_result_and_no_failure():
    outcome = run_activity("echo", None)

    assert (outcome.result, outcome.failure) == (None, None)


def test_a_raising_activity_returns_its_failure_with_type_message_and_traceback():
    outcome = run_activity("fail", '"out of stock"')

    assert outcome.result is None
    assert (outcome.failure.error_type, outcome.failure.message) == ("ValueError", "out of stock")
    assert "Traceback" in outcome.failure.stack_trace
    assert "raise ValueError(message)" in outcome.failure.stack_trace


def test_an_activity_result_that_is_not_json_is_a_failure():
    outcome = run_activity("unserializable", None)

    assert outcome.result is None
    assert outcome.failure.error_type == "orchestrations.engine.serialization.SerializationError"
    assert outcome.failure.message.startswith("the result of activity 'unserializable' is not JSON-serializable")


def test_an_activity_result_over_the_payload_limit_is_a_failure(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    outcome = run_activity("sized_text", "1100")

    assert outcome.result is None
    assert outcome.failure.error_type == "functions.activities.PayloadTooLargeError"
    assert outcome.failure.message == (
        "the result of activity 'sized_text' is 1,102 bytes, over the limit of 1,024 (PERDURA_MAX_PAYLOAD_BYTES)"
    )


def test_an_activity_result_at_the_payload_limit_is_returned(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    outcome = run_activity("sized_text", "1022")

    assert outcome.failure is None
    assert len(outcome.result.encode()) == 1024


def test_an_unknown_activity_is_a_failure_naming_it():
    outcome = run_activity("no_such_activity", None)

    assert outcome.failure.error_type == "functions.registry.UnknownFunctionError"
    assert "no activity named 'no_such_activity' is registered" in outcome.failure.message


def test_the_payload_limit_counts_bytes_not_characters(settings):
    settings.PERDURA_MAX_PAYLOAD_BYTES = 1024

    check_payload_size("é" * 512, "the text")  # 1,024 bytes.
    with pytest.raises(PayloadTooLargeError, match="the text is 1,026 bytes"):
        check_payload_size("é" * 513, "the text")


def test_the_builtin_http_activity_is_known_without_registration():
    from orchestrations.engine.http import HTTP_ACTIVITY_NAME

    assert is_known_activity(HTTP_ACTIVITY_NAME)
    assert is_known_activity("echo")
    assert not is_known_activity("no_such_activity")


def test_what_an_activity_logs_is_kept_with_its_outcome():
    outcome = run_activity("log_and_echo", '"order 7"')

    assert outcome.result == '"order 7"'
    assert "WARNING tests.activities: working on order 7" in outcome.logs


def test_logs_of_other_threads_are_not_mixed_in():
    outcome = run_activity("log_while_another_thread_logs", '"mine"')

    assert "working on mine" in outcome.logs
    assert "not mine" not in outcome.logs
