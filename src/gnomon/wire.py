"""Shared wire-model base and the value types every request field is declared with.

A request field is never a bare ``str``, ``int``, ``float``, ``bool`` or ``Any``: it is one of
the types below, so a value the database cannot hold, or a value of the wrong JSON type, is a
422 naming the field before any service or store sees it (``tests/unit/test_wire.py`` walks
every route to hold this):

- ``Text``: no lone surrogates (not encodable as UTF-8) and no NUL (PostgreSQL text cannot
  hold it), in bodies, queries and paths alike. (Headers never carry either: the HTTP parser
  refuses control characters, and decodes bytes as Latin-1.)
- ``WireInt`` / ``QueryInt``: signed 64-bit, what an integer column holds. ``Wire*`` types are
  strict (JSON ``true`` is not ``1``, ``"5"`` is not ``5``); ``Query*`` ones parse the text of a
  query or path parameter.
- ``PageSize`` / ``BrowsePageSize``: a listing's ``max_results`` query parameter, from 1 to
  ``checks.MAX_RESULTS_LIMIT`` (runs, experiments) or ``checks.BROWSE_RESULTS_LIMIT`` (what
  people browse: identity objects, audit events, registry entries), the services' bounds.
- ``WireMillis`` / ``QueryMillis``: milliseconds since the epoch, from 1970 to the end of 9999,
  the range a ``datetime`` can show, so a stored time never breaks a reader.
- ``WireFloat``: a JSON number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (how the wire
  writes them, see ``Wire``); never a bool or another string.
- ``WireJson``: any JSON value, its strings checked as ``Text``, its integers as ``WireInt``,
  at most ``MAX_JSON_DEPTH`` containers deep.

A request that fails its schema is one ``invalid request`` error (:func:`invalid_request`),
whether the server answers it (422) or the client's ``transport.body`` refuses it first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Strict, WithJsonSchema

from gnomon.checks import (
    BROWSE_RESULTS_LIMIT,
    INT64_MAX,
    INT64_MIN,
    MAX_MILLIS,
    MAX_RESULTS_LIMIT,
    text_problem,
)
from gnomon.errors import InvalidInput

T = TypeVar("T")

MAX_JSON_DEPTH = 32  # containers inside containers; deeper JSON is refused, never recursed

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def check_text(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_json(value: Any) -> Any:
    _walk_json(value, "", 0)
    return value


def _walk_json(value: Any, path: str, depth: int) -> None:
    if isinstance(value, str):
        if problem := text_problem(value):
            raise ValueError(f"{path or 'the value'}: {problem}")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"{path or 'the value'}: integer {value} is outside signed 64 bits")
    elif isinstance(value, dict | list):
        if depth >= MAX_JSON_DEPTH:
            raise ValueError(f"lists and objects nest over {MAX_JSON_DEPTH} levels deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (problem := text_problem(key)):
                raise ValueError(f"key at {path or 'the top'}: {problem}")
            where = f"{path}.{str(key)[:40]}" if path else str(key)[:40]
            _walk_json(item, where, depth + 1)


def _non_finite(value: Any) -> Any:
    return _NON_FINITE.get(value, value) if isinstance(value, str) else value


_FLOAT_SCHEMA = {"anyOf": [{"type": "number"}, {"enum": list(_NON_FINITE)}]}

Text = Annotated[str, AfterValidator(check_text)]
WireInt = Annotated[int, Strict(), Ge(INT64_MIN), Le(INT64_MAX)]
WireMillis = Annotated[int, Strict(), Ge(0), Le(MAX_MILLIS)]
WireFloat = Annotated[float, Strict(), BeforeValidator(_non_finite), WithJsonSchema(_FLOAT_SCHEMA)]
WireBool = Annotated[bool, Strict()]
WireJson = Annotated[Any, AfterValidator(check_json)]
QueryInt = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]
QueryMillis = Annotated[int, Ge(0), Le(MAX_MILLIS)]
PageSize = Annotated[int, Ge(1), Le(MAX_RESULTS_LIMIT)]
BrowsePageSize = Annotated[int, Ge(1), Le(BROWSE_RESULTS_LIMIT)]


class Wire(BaseModel):
    """Strict about unknown fields; NaN and ±inf travel as "NaN", "Infinity", "-Infinity"."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings", from_attributes=True)


class PageOut(Wire, Generic[T]):
    items: list[T]
    next_page_token: str | None = None


def invalid_request(errors: Iterable[Mapping[str, Any]]) -> InvalidInput:
    """The error for a request that fails its schema, from pydantic's ``errors()``: each
    problem named by field (the first five in the message, all in ``details``)."""
    problems = [_problem(error) for error in errors]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return InvalidInput(f"invalid request: {summary}", {"errors": problems})


def _problem(error: Mapping[str, Any]) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ())]
    if location and location[0] in ("body", "query", "path", "header"):
        where, field = location[0], ".".join(location[1:])
    else:  # a model checked on its own (the client's body()): its fields are the body's
        where, field = "body", ".".join(location)
    return {
        "type": error.get("type", ""),
        "in": where,
        "field": field or where,
        "message": error.get("msg", "invalid"),
    }
