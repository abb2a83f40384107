"""The one error writer both servers answer with."""

from __future__ import annotations

import json

from gnomon.errors import InvalidInput, RateLimited, Unavailable
from gnomon.web.errors import error_response


def test_the_body_names_the_code_and_carries_the_request_id_when_given() -> None:
    response = error_response(InvalidInput("bad x", {"field": "x"}), request_id="req-1")

    assert response.status_code == 422 and response.media_type == "application/json"
    error = json.loads(response.body)["error"]
    assert error["code"] == "invalid_input" and error["message"] == "bad x"
    assert error["details"] == {"field": "x"} and error["request_id"] == "req-1"
    assert "request_id" not in json.loads(error_response(InvalidInput("bad")).body)["error"]


def test_an_error_that_says_when_to_retry_sets_retry_after() -> None:
    assert (
        error_response(RateLimited("slow down", {"retry_after": 7})).headers["retry-after"] == "7"
    )
    refused = error_response(Unavailable("full", {"retry_after": 2}), 503)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
    assert "retry-after" not in error_response(Unavailable("down", {"retry_after": True})).headers


def test_values_no_json_writer_takes_as_they_are_still_answer() -> None:
    response = error_response(InvalidInput("model '\ud800' is bad", {"big": 2**70}))

    assert response.status_code == 422
    error = json.loads(response.body)["error"]
    assert error["message"] == "model '\\ud800' is bad" and error["details"] == {"big": 2**70}
