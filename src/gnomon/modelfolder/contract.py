"""The input contract: what a model accepts, stored in its folder and enforced by the server.

A :class:`Contract` lists the input and output columns. Each :class:`ColumnSpec` carries a
dtype, whether nulls are allowed, numeric bounds and, for categorical columns, the allowed
values. It is inferred at logging time (:func:`gnomon.modelfolder.infer_contract`), written into
``gnomon-model.yaml``, and may be edited there (:func:`gnomon.modelfolder.write_spec`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from gnomon.checks import shown, text_problem
from gnomon.errors import InvalidInput

DTYPES: Final = ("int64", "float64", "bool", "string", "category", "datetime")

# Why 10%: training data rarely covers the whole legitimate range of a feature, so bounds at
# the exact observed min/max would refuse honest traffic; 10% of the range on each side still
# catches unit mistakes (centimetres sent to a model trained in metres is 100x off).
DEFAULT_MARGIN: Final = 0.1

# Above this many distinct values a text column is free text (ids, names), not a category.
MAX_CATEGORIES: Final = 50

# The widest input a model may take: a contract lists at most this many columns, and the model
# server reads at most this many from a request when a model has no contract to say.
MAX_COLUMNS: Final = 4096
# The most allowed values a contract's column may list (inference stops at MAX_CATEGORIES;
# an edited contract may list more, up to this).
MAX_CATEGORY_VALUES: Final = 10_000
MAX_NAME_LENGTH: Final = 1000
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract; ``minimum``/``maximum`` are None where unbounded."""

    name: str
    dtype: str
    nullable: bool = False
    minimum: float | int | None = None
    maximum: float | int | None = None
    categories: list[Any] | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.dtype not in DTYPES:
            raise InvalidInput(
                f"column '{self.name}' has dtype {shown(self.dtype)}; expected one of "
                f"{list(DTYPES)}",
                {"field": f"{self.name}.dtype"},
            )
        for key in ("minimum", "maximum"):
            bound = getattr(self, key)
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, (int, float)) or math.isnan(bound)
            ):
                raise InvalidInput(
                    f"column '{self.name}': {key} must be a number, got {shown(bound)}",
                    {"field": f"{self.name}.{key}"},
                )
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInput(f"column '{self.name}' has minimum {lo} above maximum {hi}")
        if self.categories is not None:
            _check_categories(self.name, self.categories)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "dtype": self.dtype, "nullable": self.nullable}
        # Absent keys read better in a hand-edited YAML file than a column of nulls.
        for key in ("minimum", "maximum", "categories"):
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if key == "categories" else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        """Raises ``InvalidInput`` naming the first key of the wrong type or value."""
        if not isinstance(data, dict):
            raise InvalidInput(f"a contract column must be a mapping, got {shown(data)}")
        unknown = sorted(set(data) - _COLUMN_FIELDS, key=str)
        if unknown:
            raise InvalidInput(f"column spec has unknown keys {_few(unknown)}")
        for key in ("name", "dtype"):
            if key not in data:
                raise InvalidInput(f"column spec is missing '{key}'")
            if not isinstance(data[key], str):
                raise InvalidInput(
                    f"column spec: '{key}' must be text, got {shown(data[key])}"
                    + (" (quote it in YAML)" if isinstance(data[key], (int, float)) else "")
                )
        nullable = data.get("nullable", False)
        if not isinstance(nullable, bool):
            raise InvalidInput(
                f"column '{data['name']}': nullable must be true or false, got {shown(nullable)}"
            )
        categories = data.get("categories")
        if categories is not None and not isinstance(categories, list):
            raise InvalidInput(
                f"column '{data['name']}': categories must be a list, got {shown(categories)}"
            )
        return cls(
            name=data["name"],
            dtype=data["dtype"],
            nullable=nullable,
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            categories=categories,
        )


@dataclass(frozen=True)
class Contract:
    """The inputs a model accepts and the outputs it returns."""

    inputs: list[ColumnSpec]
    outputs: list[ColumnSpec] = field(default_factory=list)
    margin: float = DEFAULT_MARGIN

    def __post_init__(self) -> None:
        for title, columns in (("input", self.inputs), ("output", self.outputs)):
            if len(columns) > MAX_COLUMNS:
                raise InvalidInput(
                    f"contract lists {len(columns)} {title} columns; the most is {MAX_COLUMNS}",
                    {"limit": MAX_COLUMNS},
                )
        if isinstance(self.margin, bool) or not isinstance(self.margin, (int, float)):
            raise InvalidInput(f"contract margin must be a number, got {shown(self.margin)}")
        if not (math.isfinite(self.margin) and self.margin >= 0):
            raise InvalidInput(f"contract margin must be at least 0, got {self.margin}")
        seen: set[str] = set()
        repeated: set[str] = set()
        for column in self.inputs:  # a set: 20,000 columns once took 9 s with list.count
            (repeated if column.name in seen else seen).add(column.name)
        duplicates = sorted(repeated)
        if duplicates:
            raise InvalidInput(f"contract lists input columns more than once: {_few(duplicates)}")

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def column(self, name: str) -> ColumnSpec:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise InvalidInput(f"contract has no input column '{name}'")

    def with_column(self, name: str, **changes: Any) -> Contract:
        """A copy with one input column changed, e.g. ``with_column("age", maximum=130)``."""
        current = self.column(name)
        inputs = [dataclasses.replace(c, **changes) if c is current else c for c in self.inputs]
        return dataclasses.replace(self, inputs=inputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "margin": self.margin,
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Contract:
        """Raises ``InvalidInput`` naming the first key of the wrong type or value, or more
        than ``MAX_COLUMNS`` columns (counted before any is built)."""
        if not isinstance(data, dict):
            raise InvalidInput(f"a contract must be a mapping, got {shown(data)}")
        unknown = sorted(set(data) - _CONTRACT_FIELDS, key=str)
        if unknown:
            raise InvalidInput(f"contract has unknown keys {_few(unknown)}")
        return cls(
            inputs=_columns(data, "inputs"),
            outputs=_columns(data, "outputs"),
            margin=data.get("margin", DEFAULT_MARGIN),
        )

    def describe(self) -> str:
        """A plain-text table of the contract, for the CLI and logs."""
        lines = []
        for title, columns in (("inputs", self.inputs), ("outputs", self.outputs)):
            lines.append(f"{title}:")
            lines.extend(f"  {_describe_column(c)}" for c in columns)
        return "\n".join(lines)


def _describe_column(spec: ColumnSpec) -> str:
    text = f"{spec.name}: {spec.dtype}{'?' if spec.nullable else ''}"
    if spec.minimum is not None or spec.maximum is not None:
        text += f" in [{spec.minimum}, {spec.maximum}]"
    if spec.categories is not None:
        text += f" one of {spec.categories}"
    return text


_COLUMN_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(ColumnSpec))
_CONTRACT_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(Contract))


def _columns(data: dict[str, Any], key: str) -> list[ColumnSpec]:
    columns = data.get(key) or []
    if not isinstance(columns, list):
        raise InvalidInput(f"contract {key} must be a list of columns, got {shown(columns)}")
    if len(columns) > MAX_COLUMNS:  # before building thousands of specs
        raise InvalidInput(
            f"contract lists {len(columns)} {key[:-1]} columns; the most is {MAX_COLUMNS}",
            {"limit": MAX_COLUMNS},
        )
    return [ColumnSpec.from_dict(c) for c in columns]


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_LENGTH or not _clean(name):
        raise InvalidInput(
            f"a contract column name must be text of 1 to {MAX_NAME_LENGTH} characters, "
            f"without NUL or lone surrogates; got {shown(name)}"
        )


def _check_categories(name: str, categories: list[Any]) -> None:
    if len(categories) > MAX_CATEGORY_VALUES:
        raise InvalidInput(
            f"column '{name}' lists {len(categories)} categories; the most is "
            f"{MAX_CATEGORY_VALUES}",
            {"limit": MAX_CATEGORY_VALUES},
        )
    for value in categories:  # enforcement looks values up in a set: scalars only
        if not isinstance(value, _SCALARS) or (isinstance(value, str) and not _clean(value)):
            raise InvalidInput(
                f"column '{name}': category {shown(value)} must be text, a number or a "
                "boolean (text without NUL or lone surrogates)"
            )


def _clean(text: str) -> bool:
    return text_problem(text) is None  # no NUL, no lone surrogate


def _few(names: Iterable[object], count: int = 5) -> str:
    texts = [shown(n) for n in names]
    more = f" and {len(texts) - count} more" if len(texts) > count else ""
    return f"[{', '.join(texts[:count])}]{more}"
