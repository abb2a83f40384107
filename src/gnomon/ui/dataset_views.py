"""What the dataset page reads, each part bounded: a page of versions by number, the schema,
the shown version's check when it was added, its profile with a chart per column (SVG drawn
here by ``gnomon.data.profile_svg``, which escapes every text), and who used it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from gnomon._types import Scope
from gnomon.data import profile_svg
from gnomon.data.entities import Dataset, DatasetKind, DatasetVersion
from gnomon.data.profile import FORMAT, version_profile
from gnomon.data.schema import DatasetSchema
from gnomon.data.service import DatasetService
from gnomon.data.validation import ValidationReport
from gnomon.errors import GnomonError, NotFound

VERSIONS_PER_PAGE = 25
MAX_SCHEMA_COLUMNS = 500
MAX_PROFILED_COLUMNS = 60
MAX_ANOMALIES = 200
# A profile reads the whole version: done on opening the page up to this size, else when asked.
AUTO_PROFILE_BYTES = 64 * 1024**2


@dataclass(frozen=True, slots=True)
class VersionsPage:
    """Versions ``first`` down to ``first - VERSIONS_PER_PAGE + 1``; ``older``/``newer`` are
    the ``first`` of the neighbouring pages (None: none)."""

    first: int
    versions: list[DatasetVersion]
    older: int | None
    newer: int | None


def versions_page(
    datasets: DatasetService, scope: Scope, dataset: Dataset, top: int | None
) -> VersionsPage:
    """One page of versions, read by number: never every version of a long history."""
    latest = dataset.latest_version
    first = min(top or latest, latest)
    numbers = range(first, max(first - VERSIONS_PER_PAGE, 0), -1)
    found = []
    for number in numbers:
        try:
            found.append(datasets.version(scope, f"{dataset.name}@{number}"))
        except NotFound:  # a gap in the numbers is skipped, not an error
            continue
    older = first - VERSIONS_PER_PAGE
    newer = first + VERSIONS_PER_PAGE
    return VersionsPage(
        first,
        found,
        older if older >= 1 else None,
        min(newer, latest) if first < latest else None,
    )


def current_schema(datasets: DatasetService, scope: Scope, name: str) -> DatasetSchema | None:
    """None while the dataset has no table version."""
    try:
        return datasets.schema(scope, name)[0]
    except NotFound:
        return None


def validation_of(
    datasets: DatasetService, scope: Scope, version: DatasetVersion
) -> tuple[bool, ValidationReport | None]:
    """Whether the version is described (a table), and its check against the dataset's
    schema when it was added (None for the first table version: the schema came from it)."""
    if version.kind is not DatasetKind.TABLE:
        return False, None
    try:
        return True, datasets.described(scope, version.ref).validation
    except NotFound:
        return False, None


@dataclass(frozen=True, slots=True)
class ColumnView:
    name: str
    type: str
    figures: list[tuple[str, str]]
    chart: Markup


@dataclass(frozen=True, slots=True)
class ProfileView:
    """``columns`` to draw; ``pending`` when too large to compute unasked; ``error`` when it
    cannot be computed (files that are not tables, a table too large to decode)."""

    rows: int = 0
    columns: list[ColumnView] = field(default_factory=list)
    total_columns: int = 0
    pending: bool = False
    error: str = ""


def profile_view(
    datasets: DatasetService, scope: Scope, version: DatasetVersion, compute: bool
) -> ProfileView:
    if version.kind is not DatasetKind.TABLE:
        return ProfileView(error="this version holds files that are not tables: no profile")
    stored = datasets.objects(scope).profile(version.manifest_digest)
    if stored is None or stored.get("format") != FORMAT:
        if not compute and version.bytes > AUTO_PROFILE_BYTES:
            return ProfileView(pending=True)
        try:
            stored = version_profile(datasets, scope, version.ref)
        except GnomonError as exc:  # not a table after all, too large to decode, a lost file
            return ProfileView(error=exc.message)
    columns = stored["columns"]
    shown = [_column_view(c) for c in columns[:MAX_PROFILED_COLUMNS]]
    return ProfileView(int(stored["rows"]), shown, len(columns))


_FIGURES = (("count", "count"), ("missing", "missing"), ("distinct", "distinct"))
_NUMBERS = (("mean", "mean"), ("std", "std"), ("min", "min"), ("max", "max"))


def _column_view(column: dict[str, Any]) -> ColumnView:
    keys = _FIGURES + (_NUMBERS if column.get("histogram") else ())
    figures = [(label, profile_svg.number(column.get(key))) for key, label in keys]
    if column["type"] in ("timestamp", "date") and column.get("min") is not None:
        figures += [("min", str(column["min"])), ("max", str(column["max"]))]
    return ColumnView(column["name"], column["type"], figures, _chart(column))


def _chart(column: dict[str, Any]) -> Markup:
    name = column["name"]
    histogram = column.get("histogram")
    if histogram:
        return Markup(profile_svg.histogram(name, histogram["edges"], [histogram["counts"]]))
    top = column.get("top")
    if top:
        total = column.get("count") or 1
        labels = [t["value"] for t in top]
        shares = [t["count"] / total for t in top]
        tips = [f"{t['value']}: {t['count']:,} rows" for t in top]
        return Markup(profile_svg.bars("top-values", name, labels, [shares], [tips]))
    return Markup("")
