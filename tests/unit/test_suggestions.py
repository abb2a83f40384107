"""``did_you_mean``: the closest name, or nothing; bounded whatever it is given, counted in
full comparisons (difflib's quadratic ``ratio``), not in wall time."""

from __future__ import annotations

import itertools
import random

from gnomon.suggestions import MAX_CANDIDATES, MAX_COMPARISONS, MAX_WORD, closest, did_you_mean


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


def lookalike(seed: int, length: int = MAX_WORD) -> str:
    """A CJK name of ``length`` made to share most characters with every other one."""
    rng = random.Random(seed)
    base = random.Random(0)
    letters = [chr(0x4E00 + base.randrange(30)) for _ in range(length)]
    for _ in range(length // 6):
        letters[rng.randrange(length)] = chr(0x4E00 + rng.randrange(30))
    return "".join(letters)


def test_a_thousand_long_lookalikes_cost_a_bounded_number_of_full_comparisons() -> None:
    """The attack: an editor fills a workspace with long look-alike names, then misses."""
    names = [lookalike(seed) for seed in range(MAX_CANDIDATES)]
    meant, compared = closest(lookalike(-1), names)
    assert meant in names  # still a suggestion
    assert compared <= MAX_COMPARISONS  # not one per candidate


def test_a_word_longer_than_any_typo_is_compared_with_nothing() -> None:
    names = [lookalike(seed, 256) for seed in range(MAX_CANDIDATES)]
    assert closest(lookalike(-1, MAX_WORD + 1), names) == (None, 0)
    assert closest(lookalike(-1, 256), names) == (None, 0)


def test_names_of_another_length_are_not_compared() -> None:
    assert closest("churn", ["churn" * 10, "c", "churn-model-v2"]) == (None, 0)
    assert closest("strat_time", ["start_time", "status"]) == ("start_time", 1)
