"""The input contract: what a model accepts, stored in its folder and enforced by the server.

A :class:`Contract` lists the input and output columns. Each :class:`ColumnSpec` carries a
dtype, whether nulls are allowed, numeric bounds and, for categorical columns, the allowed
values. It is inferred at logging time (:func:`gnomon.models.infer_contract`), written into
``gnomon-model.yaml``, and may be edited there (:func:`gnomon.models.write_spec`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Final

from gnomon.errors import InvalidInput

DTYPES: Final = ("int64", "float64", "bool", "string", "category", "datetime")

# Why 10%: training data rarely covers the whole legitimate range of a feature, so bounds at
# the exact observed min/max would refuse honest traffic; 10% of the range on each side still
# catches unit mistakes (centimetres sent to a model trained in metres is 100x off).
DEFAULT_MARGIN: Final = 0.1

# Above this many distinct values a text column is free text (ids, names), not a category.
MAX_CATEGORIES: Final = 50


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
        if self.dtype not in DTYPES:
            raise InvalidInput(
                f"column '{self.name}' has dtype '{self.dtype}'; expected one of {list(DTYPES)}",
                {"field": f"{self.name}.dtype"},
            )
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInput(f"column '{self.name}' has minimum {lo} above maximum {hi}")

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
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InvalidInput(f"column spec has unknown keys {sorted(unknown)}")
        try:
            name, dtype = str(data["name"]), str(data["dtype"])
        except KeyError as exc:
            raise InvalidInput(f"column spec is missing '{exc.args[0]}'") from None
        categories = data.get("categories")
        return cls(
            name=name,
            dtype=dtype,
            nullable=bool(data.get("nullable", False)),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            categories=list(categories) if categories is not None else None,
        )


@dataclass(frozen=True)
class Contract:
    """The inputs a model accepts and the outputs it returns."""

    inputs: list[ColumnSpec]
    outputs: list[ColumnSpec] = field(default_factory=list)
    margin: float = DEFAULT_MARGIN

    def __post_init__(self) -> None:
        names = [c.name for c in self.inputs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidInput(f"contract lists input columns more than once: {duplicates}")

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
        return cls(
            inputs=[ColumnSpec.from_dict(c) for c in data.get("inputs") or []],
            outputs=[ColumnSpec.from_dict(c) for c in data.get("outputs") or []],
            margin=float(data.get("margin", DEFAULT_MARGIN)),
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
