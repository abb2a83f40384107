from __future__ import annotations

from typing import Any

import pytest

from gnomon.nesting import brackets_at_most, deeper_than


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("[[[", 0), ([], 1), ([1, 2], 1), ({"a": [1]}, 2), ((1, (2,)), 2), (nested(7), 7)],
)
def test_depth_is_counted_in_levels_of_lists_and_objects(value: Any, depth: int) -> None:
    assert not deeper_than(value, depth)
    assert deeper_than(value, depth - 1) == (depth > 0)


def test_the_deepest_branch_counts() -> None:
    value = {"flat": [1, 2, 3], "deep": [[], [[nested(10)]]]}
    assert deeper_than(value, 13) and not deeper_than(value, 14)


def test_a_value_deeper_than_the_stack_is_measured() -> None:
    assert deeper_than(nested(100_000), 64)


def test_bracket_count_bounds_depth_without_parsing() -> None:
    assert brackets_at_most(b'[{"a": 1.0, "b": "[x"}]', 3)
    assert not brackets_at_most(b"[[[[1]]]]", 3)
