from __future__ import annotations

import pytest

from gnomon.errors import InvalidInput
from gnomon.tracking.search import (
    MAX_EXPERIMENTS,
    MAX_FILTER_LENGTH,
    MAX_IN_VALUES,
    MAX_SEARCH_TERMS,
    Comparison,
    Field,
    FieldKind,
    OrderBy,
    build_query,
    parse_filter,
    parse_order_by,
)


def test_parses_the_issue_query() -> None:
    assert parse_filter("metrics.acc > 0.9 and params.model = 'rf'") == (
        Comparison(Field(FieldKind.METRIC, "acc"), ">", 0.9),
        Comparison(Field(FieldKind.PARAM, "model"), "=", "rf"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.val/loss<=1e-3", Comparison(Field(FieldKind.METRIC, "val/loss"), "<=", 1e-3)),
        (
            'tags.`gnomon.git.commit` = "abc"',
            Comparison(Field(FieldKind.TAG, "gnomon.git.commit"), "=", "abc"),
        ),
        ("params.a IN ('x', 'y')", Comparison(Field(FieldKind.PARAM, "a"), "IN", ("x", "y"))),
        ("params.a not in ('x')", Comparison(Field(FieldKind.PARAM, "a"), "NOT IN", ("x",))),
        (
            "attributes.status = 'FAILED'",
            Comparison(Field(FieldKind.ATTRIBUTE, "status"), "=", "FAILED"),
        ),
        ("start_time > 5", Comparison(Field(FieldKind.ATTRIBUTE, "start_time"), ">", 5.0)),
        ("name like 'rf%'", Comparison(Field(FieldKind.ATTRIBUTE, "name"), "LIKE", "rf%")),
        ("params.q = 'it\\'s'", Comparison(Field(FieldKind.PARAM, "q"), "=", "it's")),
        ("metrics.x == -2", Comparison(Field(FieldKind.METRIC, "x"), "=", -2.0)),
        (
            "attributes.parent_run_id = 'p1'",
            Comparison(Field(FieldKind.ATTRIBUTE, "parent_run_id"), "=", "p1"),
        ),
        (
            "tags.mlflow.parentRunId != 'p1'",
            Comparison(Field(FieldKind.ATTRIBUTE, "parent_run_id"), "!=", "p1"),
        ),
        (
            "parent_run_id is null",
            Comparison(Field(FieldKind.ATTRIBUTE, "parent_run_id"), "IS NULL", None),
        ),
        ("metrics.f1 IS NOT NULL", Comparison(Field(FieldKind.METRIC, "f1"), "IS NOT NULL", None)),
        ("status IS NULL", Comparison(Field(FieldKind.ATTRIBUTE, "status"), "IS NULL", None)),
    ],
)
def test_parses_each_form(text: str, expected: Comparison) -> None:
    assert parse_filter(text) == (expected,)


@pytest.mark.parametrize(
    ("text", "position", "token"),
    [
        ("metrics.acc >> 0.9", 13, ">"),
        ("metrics.acc > 0.9 or params.a = 'b'", 18, "or"),
        ("params.depth = 8", 15, "8"),
        ("metrics.acc = 'high'", 14, "'high'"),
        ("colour = 'red'", 0, "colour"),
        ("metrics.acc like 'x'", 12, "like"),
        ("status = 'DONE'", 9, "'DONE'"),
        ("params.a in 'x'", 12, "'x'"),
        ("metrics.acc > 0.9 and ; drop", 22, ";"),
        ("parent_run_id is 'p1'", 17, "'p1'"),
        ("metrics.f1 is not 0", 18, "0"),
        ("parent_run_id is null 'x'", 22, "'x'"),
    ],
)
def test_errors_point_at_the_offending_token(text: str, position: int, token: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    assert caught.value.details["position"] == position
    assert caught.value.details["token"] == ascii(token)  # as the message shows it
    assert f"position {position}" in caught.value.message


@pytest.mark.parametrize(
    ("text", "position", "word", "meant"),
    [
        ("metircs.acc > 0.9", 0, "metircs", "metrics"),
        ("metrics.acc > 0.9 and parms.model = 'rf'", 22, "parms", "params"),
        ("stauts = 'FINISHED'", 0, "stauts", "status"),
        ("attributes.strat_time > 5", 0, "strat_time", "start_time"),
    ],
)
def test_a_misspelt_field_is_named_with_a_suggestion(
    text: str, position: int, word: str, meant: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    message = caught.value.message
    assert f"{word!r}; did you mean {meant!r}?" in message
    assert f"position {position}" in message
    assert caught.value.details["position"] == position


def test_an_unknown_prefix_far_from_any_is_named_without_a_guess() -> None:
    with pytest.raises(InvalidInput, match=r"unknown field 'zzz' \(fields are") as caught:
        parse_filter("zzz.acc > 1")
    assert "did you mean" not in caught.value.message


def test_incomplete_filter_says_what_was_expected() -> None:
    with pytest.raises(InvalidInput, match="expected a value at the end"):
        parse_filter("metrics.acc >")


def test_quote_hint_for_params() -> None:
    with pytest.raises(InvalidInput, match=r"quote the value, e\.g\. '8'"):
        parse_filter("params.depth = 8")


def test_order_by_the_parent_and_its_mlflow_tag() -> None:
    parent = OrderBy(Field(FieldKind.ATTRIBUTE, "parent_run_id"), False)
    assert parse_order_by(["parent_run_id DESC", "tags.mlflow.parentRunId DESC"]) == (
        parent,
        parent,
    )


def test_order_by() -> None:
    assert parse_order_by(["metrics.f1 DESC", "params.model", "start_time asc"]) == (
        OrderBy(Field(FieldKind.METRIC, "f1"), False),
        OrderBy(Field(FieldKind.PARAM, "model"), True),
        OrderBy(Field(FieldKind.ATTRIBUTE, "start_time"), True),
    )
    with pytest.raises(InvalidInput, match="ASC or DESC"):
        parse_order_by(["metrics.f1 downwards"])


@pytest.mark.parametrize("bad", [0, -1, 50_001, True, "10"])
def test_max_results_bounds(bad: object) -> None:
    with pytest.raises(InvalidInput, match="max_results"):
        build_query(["e"], max_results=bad)  # type: ignore[arg-type]


def test_empty_filter_matches_everything() -> None:
    assert parse_filter("  ") == ()
    assert parse_filter(None) == ()


# -- bounds: every database runs what parses -----------------------------------------------------


def _terms(count: int) -> str:
    return " and ".join(f"metrics.m{i} > 0" for i in range(count))


def test_filter_and_order_by_name_at_most_max_search_terms() -> None:
    assert len(build_query(["e"], _terms(MAX_SEARCH_TERMS)).filters) == MAX_SEARCH_TERMS
    with pytest.raises(InvalidInput, match=f"more than {MAX_SEARCH_TERMS} terms"):
        build_query(["e"], _terms(MAX_SEARCH_TERMS + 1))
    with pytest.raises(InvalidInput, match=f"more than {MAX_SEARCH_TERMS} terms"):
        build_query(["e"], _terms(1), ["metrics.m0"] * MAX_SEARCH_TERMS)
    with pytest.raises(InvalidInput, match=f"more than {MAX_SEARCH_TERMS} terms"):
        build_query(["e"], None, ["params.p"] * (MAX_SEARCH_TERMS + 1))


def test_in_lists_experiments_and_filter_text_are_bounded() -> None:
    values = ", ".join(f"'{i}'" for i in range(MAX_IN_VALUES + 1))
    with pytest.raises(InvalidInput, match=f"at most {MAX_IN_VALUES} values"):
        parse_filter(f"params.p IN ({values})")
    with pytest.raises(InvalidInput, match="experiment_ids"):
        build_query([str(i) for i in range(MAX_EXPERIMENTS + 1)])
    with pytest.raises(InvalidInput, match="filter is"):
        parse_filter("params.p = '" + "x" * MAX_FILTER_LENGTH + "'")


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_text_no_database_stores_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidInput, match="filter"):
        build_query(["e"], f"params.p = '{bad}'")
    with pytest.raises(InvalidInput, match="order_by"):
        build_query(["e"], None, [f"params.`p{bad}`"])
    with pytest.raises(InvalidInput, match="experiment_id"):
        build_query([f"e{bad}"])


@pytest.mark.parametrize(
    "text",
    [
        "metrics.acc > 0.9 and " + "x" * (MAX_FILTER_LENGTH - 30),  # an unknown attribute
        "params.a = " + "9" * (MAX_FILTER_LENGTH - 20),  # a huge number, quote hint
        "metrics." + "k" * (MAX_FILTER_LENGTH - 20) + " > 1",  # a huge key
        "status = '" + "Z" * (MAX_FILTER_LENGTH - 20) + "'",  # an unknown status
        "metrics.acc > 1 and " + "a" * (MAX_FILTER_LENGTH - 30) + ".b > 1",  # unknown prefix
        "metrics.acc > 1 " + "a" * (MAX_FILTER_LENGTH - 30) + " ;",  # a bad character
        "metrics.acc > " + " " * (MAX_FILTER_LENGTH - 20),  # ends too soon
    ],
)
def test_errors_repeat_a_long_filter_only_in_part(text: str) -> None:
    """A 100 KB filter gets an error of a few hundred characters, not three copies of it."""
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    assert len(caught.value.message) < 1000
    assert all(len(str(value)) < 200 for value in caught.value.details.values())
    assert "characters)" in caught.value.message  # says how long what it cut was
