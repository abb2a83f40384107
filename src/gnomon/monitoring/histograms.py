"""The bounded histograms a drift report carries for its charts: a numeric column's counts on
edges both sides share (from the reference's quantiles, stretched to both samples' extent), a
categorical column's top categories with the rest summed as ``"(other)"``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

BINS = 20
TOP = 20
OTHER = "(other)"

Category = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Histogram:
    """Reference and current counts per bin. A numeric column has ``edges`` (one more than the
    counts; each bin holds its left edge, the last its right one too); a categorical column has
    ``categories`` (one per count), the last being the remainder when ``other`` is set."""

    reference: tuple[int, ...]
    current: tuple[int, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[Category, ...] = ()
    other: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": list(self.reference),
            "current": list(self.current),
            "edges": list(self.edges),
            "categories": list(self.categories),
            "other": self.other,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        return cls(
            reference=tuple(data["reference"]),
            current=tuple(data["current"]),
            edges=tuple(data.get("edges", ())),
            categories=tuple(data.get("categories", ())),
            other=bool(data.get("other", False)),
        )


def reference_bins(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner edges at the reference's 1/20 .. 19/20 quantiles (strictly inside its range, so
    they stay inside any extent that includes it) and its counts in the bins they cut."""
    if ordered.size == 0:
        return np.empty(0), np.zeros(1, dtype=np.int64)
    positions = np.arange(1, BINS) * (ordered.size - 1) // BINS
    inner = np.unique(ordered[positions])
    inner = inner[(inner > ordered[0]) & (inner < ordered[-1])]
    return inner, bin_counts(ordered, inner)


def bin_counts(ordered: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Counts of sorted values in the bins that ``inner`` edges cut, the outer ones open."""
    cuts = np.searchsorted(ordered, inner, side="left")
    return np.diff(np.concatenate(([0], cuts, [ordered.size])))


def numeric_histogram(
    inner: np.ndarray, reference_counts: np.ndarray, reference: np.ndarray, current: np.ndarray
) -> Histogram:
    """Both sorted samples on the reference's inner edges, framed by the lowest and highest
    value of either."""
    ends = [values[[0, -1]] for values in (reference, current) if values.size]
    if not ends:
        return Histogram(reference=(), current=())
    low = float(min(end[0] for end in ends))
    high = float(max(end[1] for end in ends))
    return Histogram(
        reference=tuple(int(c) for c in reference_counts),
        current=tuple(int(c) for c in bin_counts(current, inner)),
        edges=(low, *(float(e) for e in inner), high),
    )


def categorical_histogram(
    reference: np.ndarray, current: np.ndarray, labels: Callable[[np.ndarray], Sequence[Any]]
) -> Histogram:
    """The ``TOP`` categories by reference and current count together, the rest summed as
    ``OTHER``; ``labels`` names the categories at given positions of the count vectors."""
    order = np.argsort(-(reference + current), kind="stable")
    top, rest = order[:TOP], order[TOP:]
    names = tuple(_json_safe(label) for label in labels(top))
    counts_ref, counts_cur = reference[top].tolist(), current[top].tolist()
    if rest.size:
        names += (OTHER,)
        counts_ref.append(int(reference[rest].sum()))
        counts_cur.append(int(current[rest].sum()))
    return Histogram(
        reference=tuple(counts_ref),
        current=tuple(counts_cur),
        categories=names,
        other=bool(rest.size),
    )


def _json_safe(value: Any) -> Category:
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return str(value)
