"""The shared input checks, and page tokens: each refusal is InvalidInput naming the value."""

from __future__ import annotations

import base64
import json
import re

import pytest

from gnomon import checks
from gnomon._types import decode_offset_token, encode_offset_token
from gnomon.errors import InvalidInput
from gnomon.tracking.search import Field, FieldKind, parse_filter


@pytest.mark.parametrize(
    ("value", "problem"), [("a\x00b", "NUL"), ("\ud800", "surrogate"), ("ok\udfff", "surrogate")]
)
def test_text_a_database_cannot_store_is_refused_naming_the_field(value: str, problem: str) -> None:
    assert problem in (checks.text_problem(value) or "")
    with pytest.raises(InvalidInput, match=f"description .*{problem}") as caught:
        checks.text("description", value)
    assert caught.value.details == {"field": "description"}


def test_any_other_text_is_kept() -> None:
    assert checks.text("name", "café 🎉 \t\n") == "café 🎉 \t\n"
    assert checks.text_problem("plain") is None


@pytest.mark.parametrize("value", ["²", "٣", "\uff11", "-1", "1.0", "", "1" * 20])
def test_decimal_is_a_few_ascii_digits_only(value: str) -> None:
    assert not checks.decimal(value)
    assert checks.decimal("0123") and checks.decimal("9" * 19)


@pytest.mark.parametrize("value", [-1, checks.MAX_MILLIS + 1, 2**63, True])
def test_millis_are_times_a_datetime_can_show(value: object) -> None:
    with pytest.raises(InvalidInput, match="start_time"):
        checks.millis("start_time", value)
    assert checks.millis("start_time", checks.MAX_MILLIS) == checks.MAX_MILLIS


@pytest.mark.parametrize("value", [0, -(2**70), 2**70, True, "5"])
def test_max_results_is_bounded_both_ways(value: object) -> None:
    with pytest.raises(InvalidInput, match="max_results") as caught:
        checks.max_results(value)
    assert caught.value.details == {"field": "max_results"}


def test_max_results_takes_the_bound_of_its_listing() -> None:
    assert checks.max_results(checks.MAX_RESULTS_LIMIT) == checks.MAX_RESULTS_LIMIT
    assert checks.max_results(1000, checks.BROWSE_RESULTS_LIMIT) == 1000
    with pytest.raises(InvalidInput, match="from 1 to 1000, got 1001"):
        checks.max_results(1001, checks.BROWSE_RESULTS_LIMIT)


# -- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["loss", "val/acc", "f1 score", "a:b.c-d_1", ".a/b.", "x" * checks.KEY_LENGTH]
)
def test_keys_the_search_language_can_name_are_kept(key: str) -> None:
    assert checks.key("metric", key) == key


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "non-empty"),
        (5, "non-empty string"),
        ("x" * (checks.KEY_LENGTH + 1), "at most 250"),
        ("bad'key", "cannot name"),
        ("café", "cannot name"),
        (" loss", "cannot name"),
        ("loss ", "cannot name"),
        ("a/../b", "holds '..' or a '.' segment"),
        ("..", "holds '..' or a '.' segment"),
        (".", "holds '..' or a '.' segment"),
        ("a/./b", "holds '..' or a '.' segment"),
        ("a/.", "holds '..' or a '.' segment"),
        ("/abs", "cannot name"),
        ("a\x00b", "cannot name"),
    ],
)
def test_other_keys_are_refused_naming_the_kind(key: object, problem: str) -> None:
    with pytest.raises(InvalidInput, match=f"tag key.*{re.escape(problem)}"):
        checks.key("tag", key)


@pytest.mark.parametrize("key", ["loss", "val/acc", "a:b.c-d_1"])
def test_a_key_without_spaces_needs_no_quotes_in_a_search(key: str) -> None:
    (comparison,) = parse_filter(f"metrics.{checks.key('metric', key)} > 1")
    assert comparison.field == Field(FieldKind.METRIC, key)


# -- page tokens -------------------------------------------------------------------------------


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        _token(json.dumps({"offset": 2**63})),
        _token(json.dumps({"offset": -1})),
        _token(json.dumps({"offset": True})),
        _token(json.dumps({"offset": 1.5})),
        _token(json.dumps({"offset": 1, "more": 2})),
        _token("[1]"),
        _token('{"offset": ' + "[" * 100_000 + "]" * 100_000 + "}"),  # would recurse
        _token('{"offset": [[[[[[[[[[1]]]]]]]]]]}'),
        "not-a-token",
        "\ud800",
    ],
)
def test_page_tokens_not_ours_are_refused_naming_page_token(token: str) -> None:
    with pytest.raises(InvalidInput, match="page_token") as caught:
        decode_offset_token(token)
    assert caught.value.details == {"field": "page_token"}


def test_our_page_tokens_round_trip() -> None:
    assert decode_offset_token(encode_offset_token(2**63 - 1)) == 2**63 - 1
    assert decode_offset_token(None) == decode_offset_token("") == 0
