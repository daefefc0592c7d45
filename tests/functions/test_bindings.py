"""The request, response, message and output types functions receive, with Azure's attributes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions import HttpRequest, HttpResponse, Out, QueueMessage, TimerRequest
from functions.bindings import message_text


def test_an_http_request_offers_azures_attributes():
    request = HttpRequest(
        "post",
        "http://localhost/api/orders/7?verbose=1",
        headers={"Content-Type": "application/json"},
        params={"verbose": "1"},
        route_params={"id": "7"},
        body=b'{"qty": 2}',
    )

    assert request.method == "POST"
    assert request.url == "http://localhost/api/orders/7?verbose=1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers.get("CONTENT-TYPE") == "application/json"
    assert request.params == {"verbose": "1"}
    assert request.route_params == {"id": "7"}
    assert request.get_body() == b'{"qty": 2}'
    assert request.get_json() == {"qty": 2}


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[" * 100 + b"]" * 100])
def test_a_body_that_is_not_json_raises_value_error_as_on_azure(body):
    request = HttpRequest("POST", "http://localhost/api/x", body=body)

    with pytest.raises(ValueError, match="HTTP request does not contain valid JSON data"):
        request.get_json()


def test_an_http_response_defaults_to_plain_text_200():
    response = HttpResponse("héllo")

    assert (response.status_code, response.mimetype, response.charset) == (200, "text/plain", "utf-8")
    assert response.get_body() == "héllo".encode()
    assert HttpResponse(
        b"\x00\x01", status_code=201, headers={"X-A": "1"}, mimetype="application/octet-stream"
    ).headers == {"X-A": "1"}
    assert HttpResponse().get_body() == b""
    with pytest.raises(TypeError, match="an HttpResponse's body is str or bytes, not dict"):
        HttpResponse({"a": 1})  # type: ignore[arg-type]


def test_a_queue_message_offers_azures_attributes():
    inserted = datetime(2026, 12, 3, tzinfo=UTC)
    message = QueueMessage(id="m-1", body='{"order": 7}', dequeue_count=3, insertion_time=inserted)

    assert message.id == "m-1"
    assert message.get_body() == b'{"order": 7}'
    assert message.get_json() == {"order": 7}
    assert message.dequeue_count == 3
    assert message.insertion_time == inserted
    with pytest.raises(ValueError, match="queue message does not contain valid JSON data"):
        QueueMessage(body="plain text").get_json()


def test_a_timer_request_says_whether_it_is_past_due():
    assert TimerRequest(past_due=True).past_due is True
    assert TimerRequest().past_due is False


def test_an_output_binding_holds_what_was_set():
    out: Out[str] = Out()
    assert out.get() is None and not out.is_set

    out.set("hello")

    assert out.get() == "hello" and out.is_set


def test_message_text_keeps_text_and_serialises_the_rest():
    assert message_text("plain", "m") == "plain"
    assert message_text(b"bytes", "m") == "bytes"
    assert message_text({"a": [1, 2]}, "m") == '{"a": [1, 2]}'
    with pytest.raises(ValueError, match="the message cannot be serialised as JSON"):
        message_text({1, 2}, "the message")
    with pytest.raises(ValueError, match="is bytes that are not UTF-8 text"):
        message_text(b"\xff", "the message")
