"""The checked wire types, and a walk over every API route proving each input uses one."""

from __future__ import annotations

import collections.abc
import enum
import math
import types
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from annotated_types import Ge, Gt, Le, Lt
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Strict, TypeAdapter, ValidationError

from gnomon.checks import (
    BROWSE_RESULTS_LIMIT,
    INT64_MAX,
    INT64_MIN,
    MAX_MILLIS,
    MAX_RESULTS_LIMIT,
)
from gnomon.server.app import mounted_routers
from gnomon.wire import (
    MAX_JSON_DEPTH,
    Text,
    WireBool,
    WireFloat,
    WireInt,
    WireJson,
    WireMillis,
    check_json,
    check_text,
)

# -- every route input is a checked type -------------------------------------------------------

_CONTAINERS = (list, tuple, set, frozenset, dict, collections.abc.Sequence, collections.abc.Mapping)


def _routes() -> Iterator[APIRoute]:
    for _, router in mounted_routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route


def _params(dependant: Dependant) -> Iterator[tuple[Any, bool]]:
    """Every parameter of a route and of its dependencies, and whether it is the body."""
    for kind in ("path_params", "query_params", "header_params", "cookie_params"):
        yield from ((param, False) for param in getattr(dependant, kind))
    yield from ((param, True) for param in dependant.body_params)
    for sub in dependant.dependencies:
        yield from _params(sub)


def _strict(metadata: list[Any]) -> bool:
    return any(isinstance(m, Strict) and m.strict for m in metadata)


def _within_int64(metadata: list[Any]) -> bool:
    lows: list[Any] = [
        m.ge if isinstance(m, Ge) else m.gt for m in metadata if isinstance(m, Ge | Gt)
    ]
    highs: list[Any] = [
        m.le if isinstance(m, Le) else m.lt for m in metadata if isinstance(m, Le | Lt)
    ]
    return bool(lows and highs) and max(lows) >= INT64_MIN and min(highs) <= INT64_MAX


def _unchecked(tp: Any, metadata: list[Any], where: str, body: bool) -> Iterator[str]:
    """Every leaf of ``tp`` that is not one of the checked types (``gnomon.wire``)."""
    origin = get_origin(tp)
    if origin is Annotated:
        base, *extra = get_args(tp)
        yield from _unchecked(base, [*metadata, *extra], where, body)
    elif origin in (Union, types.UnionType):
        for arg in get_args(tp):
            yield from _unchecked(arg, metadata, where, body)
    elif origin in _CONTAINERS:
        for arg in get_args(tp):
            yield from _unchecked(arg, [], f"{where}[]", body)
    elif (
        origin is Literal
        or tp is type(None)
        or (isinstance(tp, type) and issubclass(tp, enum.Enum))
    ):
        return
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            yield from _unchecked(field.annotation, list(field.metadata), f"{where}.{name}", body)
    else:
        validators = {getattr(m, "func", None) for m in metadata}
        checked = {
            str: check_text in validators,
            Any: check_json in validators,
            bool: _strict(metadata) or not body,  # a query's "true" is text by nature
            int: _within_int64(metadata) and (_strict(metadata) or not body),
            float: _strict(metadata) or not body,
        }
        if not checked.get(tp, False):
            yield f"{where}: {tp!r} with {metadata}"


def test_every_route_input_is_a_checked_wire_type() -> None:
    """A new route or field declared with a bare str/int/float/bool/Any fails here: that is the
    class of hole where a NUL, a lone surrogate, ``true`` or 2**64 reaches a store."""
    problems: list[str] = []
    for route in _routes():
        where = f"{sorted(route.methods or ())} {route.path}"
        for param, body in _params(route.dependant):
            info = param.field_info
            problems += _unchecked(
                info.annotation, list(info.metadata), f"{where} {param.name}", body
            )
    assert problems == []


def test_every_page_size_is_bounded_by_a_listing_limit() -> None:
    """``max_results`` of every listing is ``PageSize`` or ``BrowsePageSize``: from 1 to the
    limit its service applies, so a size out of range is a 422 naming it, never a 500."""
    sizes: dict[str, tuple[int | None, int | None]] = {}
    for route in _routes():
        for param, _ in _params(route.dependant):
            if param.name == "max_results":
                metadata = list(param.field_info.metadata)
                low = next((m.ge for m in metadata if isinstance(m, Ge)), None)
                high = next((m.le for m in metadata if isinstance(m, Le)), None)
                sizes[f"{sorted(route.methods or ())} {route.path}"] = (low, high)
    assert len(sizes) >= 8  # experiments, models, versions, users, tokens, ...
    allowed = {(1, MAX_RESULTS_LIMIT), (1, BROWSE_RESULTS_LIMIT)}
    assert {where: size for where, size in sizes.items() if size not in allowed} == {}


def test_the_walk_finds_unchecked_fields() -> None:
    class Loose(BaseModel):
        name: str
        count: int
        ratio: float
        flag: bool
        extra: Any
        tags: dict[str, Text]

    found = list(_unchecked(Loose, [], "Loose", body=True))
    assert [line.split(":")[0] for line in found] == [
        "Loose.name",
        "Loose.count",
        "Loose.ratio",
        "Loose.flag",
        "Loose.extra",
        "Loose.tags[]",
    ]


# -- the types themselves ----------------------------------------------------------------------


def _refused(tp: Any, value: object) -> str:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(tp).validate_python(value)
    return str(caught.value)


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "x\udfffy"])
def test_text_refuses_nul_and_lone_surrogates(value: str) -> None:
    assert "NUL" in _refused(Text, value) or "surrogate" in _refused(Text, value)


def test_text_keeps_any_other_unicode() -> None:
    assert TypeAdapter(Text).validate_python("café 🎉 \u2028") == "café 🎉 \u2028"


@pytest.mark.parametrize("value", [True, "5", 1.0, 2**63, -(2**63) - 1])
def test_wire_int_is_a_json_integer_in_int64(value: object) -> None:
    _refused(WireInt, value)
    assert TypeAdapter(WireInt).validate_python(INT64_MAX) == INT64_MAX


@pytest.mark.parametrize("value", [-1, MAX_MILLIS + 1, True])
def test_wire_millis_stays_within_what_a_datetime_shows(value: object) -> None:
    _refused(WireMillis, value)


@pytest.mark.parametrize("value", [True, False, "1", "nan", "inf", None])
def test_wire_float_is_a_number_not_a_bool_or_string(value: object) -> None:
    _refused(WireFloat, value)


def test_wire_float_reads_the_strings_the_wire_writes_for_nan_and_inf() -> None:
    adapter = TypeAdapter(WireFloat)
    assert math.isnan(adapter.validate_python("NaN"))
    assert adapter.validate_python("Infinity") == math.inf
    assert adapter.validate_python("-Infinity") == -math.inf
    assert adapter.validate_python(3) == 3.0


@pytest.mark.parametrize("value", ["true", 1, 0])
def test_wire_bool_is_a_json_bool(value: object) -> None:
    _refused(WireBool, value)


def test_wire_json_bounds_depth_integers_and_text() -> None:
    nested: Any = "x"
    for _ in range(MAX_JSON_DEPTH + 1):
        nested = [nested]
    assert "nest over" in _refused(WireJson, nested)
    assert "64 bits" in _refused(WireJson, {"a": [1, 2**64]})
    assert "a.0" in _refused(WireJson, {"a": ["\x00"]})
    assert "surrogate" in _refused(WireJson, {"\ud800": 1})
    fine = {"a": [1, 2.5, None, True, {"b": "ok"}]}
    assert TypeAdapter(WireJson).validate_python(fine) == fine
