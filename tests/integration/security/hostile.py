"""One hostile value in an otherwise valid request.

Schemathesis generates values that fit the schema, and random ones rarely land on the edges
where servers break. ``with_hostile_value`` takes a generated request and sets one field of
its body, query or path to a value chosen for that field's type: integers past int64, NaN and
infinities, a bool where a number goes, a lone surrogate (not UTF-8), NUL (PostgreSQL text
refuses it), a digit ``str.isdigit`` accepts, a long string, or JSON nested far past any
parser's recursion limit. The field keeps its type, so the value gets past type checks and
reaches whatever parses, stores or compares it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import Case

DEEP = "__deep__"  # written out as 10,000 nested lists when the body is serialised
DEPTH = 10_000
BEYOND_INT64 = (2**63, -(2**63) - 1, 10**40)

_FOR_INT: tuple[Any, ...] = (*BEYOND_INT64, True)
_FOR_FLOAT: tuple[Any, ...] = (float("nan"), float("-inf"), 10**40, True)
_FOR_STR: tuple[Any, ...] = ("\ud800", "a\x00b", "²", "x" * 20_000, str(2**63))
_FOR_OTHER: tuple[Any, ...] = (DEEP, 2**63, "a\x00b", "\ud800")
# Query strings and paths carry text only, and requests cannot encode a lone surrogate.
FOR_TEXT: tuple[str, ...] = ("a\x00b", str(2**63), str(-(2**63) - 1), "²", "1e999", "../../..")


def with_hostile_value(case: Case[Any]) -> SearchStrategy[Case[Any]]:
    """``case`` with one field, drawn at random, set to a hostile value for its type."""
    targets: list[tuple[str, Any]] = [("path", k) for k in case.path_parameters]
    targets += [("query", k) for k in case.query or {}]
    if isinstance(case.body, dict | list) or case.media_type == "application/json":
        targets += [("body", leaf) for leaf in _leaves(case.body)]
    if not targets:
        return st.just(case)
    return st.tuples(st.sampled_from(targets), st.integers(0, 99)).map(
        lambda choice: _put(case, choice[0][0], choice[0][1], choice[1])
    )


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every scalar and empty container (``()`` is the whole body)."""
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*at, k))]
    if isinstance(value, list) and value:
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*at, i))]
    return [at]


def _choices(value: Any) -> tuple[Any, ...]:
    if isinstance(value, bool) or value is None:
        return _FOR_OTHER
    if isinstance(value, int):
        return _FOR_INT
    if isinstance(value, float):
        return _FOR_FLOAT
    if isinstance(value, str):
        return _FOR_STR
    return _FOR_OTHER


def _put(case: Case[Any], where: str, key: Any, pick: int) -> Case[Any]:
    if where != "body":
        params = case.path_parameters if where == "path" else case.query
        params[key] = FOR_TEXT[pick % len(FOR_TEXT)]
        return case
    body: Any = copy.deepcopy(case.body) if isinstance(case.body, dict | list) else case.body
    parent: Any = None
    last: Any = None
    leaf = body
    for step in key:
        parent, last, leaf = leaf, step, leaf[step]
    choices = _choices(leaf)
    value = choices[pick % len(choices)]
    if parent is None:
        body = value
    else:
        parent[last] = value
    # Sent as bytes: requests refuses NaN, and the nesting is too deep for json.dumps.
    text = json.dumps(body).replace(json.dumps(DEEP), "[" * DEPTH + "]" * DEPTH)
    case.body = text.encode()
    return case
