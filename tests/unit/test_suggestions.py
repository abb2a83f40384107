"""``did_you_mean``: the closest name, or nothing; bounded whatever it is given."""

from __future__ import annotations

import itertools

from gnomon.suggestions import MAX_CANDIDATES, did_you_mean


def test_the_closest_name_is_suggested() -> None:
    assert did_you_mean("chrun", ["fraud", "churn", "churn-v2"]) == "; did you mean 'churn'?"


def test_nothing_close_suggests_nothing() -> None:
    assert did_you_mean("zebra", ["churn", "fraud"]) == ""
    assert did_you_mean("churn", []) == ""


def test_the_word_itself_is_no_suggestion() -> None:
    assert did_you_mean("churn", ["churn"]) == ""


def test_at_most_max_candidates_are_read() -> None:
    names = (f"name-{i}" for i in itertools.count())  # endless: must not be exhausted
    did_you_mean("x", names)
    assert next(names) == f"name-{MAX_CANDIDATES}"


def test_a_huge_word_is_not_matched() -> None:
    assert did_you_mean("churn" * 1000, ["churn" * 1000 + "x"]) == ""
