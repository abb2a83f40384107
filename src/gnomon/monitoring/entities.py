"""Monitor entities: what a monitor watches (its spec), and what one window of records gave.

A window's figures are flat names (``drift.share``, ``drift.score.age``,
``quality.null_rate.age``, ``outliers.rate``, ``performance.f1``,
``performance.arm.canary.f1``, ``performance.segment.country=FR.f1``) so that alert rules,
the CLI and charts name any figure the same way; each also carries its family and labels
for Prometheus (:mod:`gnomon.monitoring.prometheus`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gnomon.checks import parse_duration, shown, text_problem
from gnomon.errors import InvalidInput, NotFound

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
TASKS = ("auto", "classification", "regression")
MIN_WINDOW_S = 60
MAX_WINDOW_S = 31 * 86_400
MAX_COUNT_WINDOW = 1_000_000  # records held in memory at once
MAX_REFERENCE_SPAN_MS = 31 * 86_400_000  # of a records reference: hours listed per run
LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last moment a partition names
MAX_DELAY_S = 31 * 86_400
MAX_SEGMENT_VALUES = 50  # the most frequent values of a segment column get figures


def check_name(name: object, what: str = "monitor") -> str:
    """Raises ``InvalidInput`` unless ``name`` is 1-100 letters, digits, ``-``, ``_``, ``.``."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidInput(
            f"{what} name must be 1-100 letters, digits, '-', '_' or '.', starting with a letter "
            f"or digit; got {shown(name)}",
            {"field": "name"},
        )
    return name


def not_found(kind: str, name: object, **more: str) -> NotFound:
    """``no monitor 'x'``: one wording for the store, the service and the remote client (a
    monitor hidden by its reference's access reads as one that does not exist), the name
    shortened, since a name of any length can be asked for."""
    extra = "".join(f" of {key} {shown(value)}" for key, value in more.items())
    return NotFound(f"no {kind} {shown(name)}{extra}", {kind.split()[-1]: shown(name)})


def check_limit(limit: object, most: int) -> int:
    """Raises ``InvalidInput`` unless ``limit`` is a whole number from 1 to ``most``."""
    _bounded("limit", limit, 1, most)
    return limit  # type: ignore[return-value]  # checked


@dataclass(frozen=True, slots=True)
class ReferenceSpec:
    """What live records are compared with.

    ``kind``: ``"training"`` (the training dataset version of the primary model, the
    default), ``"dataset"`` (``dataset`` names a version ``NAME@V``) or ``"records"`` (the
    deployment's own records between ``start_ms`` and ``end_ms``).
    """

    kind: str = "training"
    dataset: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("training", "dataset", "records"):
            raise InvalidInput(
                f"reference must be 'training', 'dataset' or 'records', got {shown(self.kind)}",
                {"field": "reference"},
            )
        if self.kind == "dataset" and (
            not isinstance(self.dataset, str) or "@" not in self.dataset or len(self.dataset) > 300
        ):
            raise InvalidInput(
                f"a dataset reference names a version NAME@VERSION, got {shown(self.dataset)}",
                {"field": "reference"},
            )
        if self.kind == "records":
            start, end = self.start_ms, self.end_ms
            if not (_is_int(start) and _is_int(end) and 0 <= start < end <= LAST_MS):  # type: ignore[operator]
                raise InvalidInput(
                    "a records reference needs a start before its end, as epoch milliseconds; "
                    f"got {shown(start)} and {shown(end)}",
                    {"field": "reference"},
                )
            if end - start > MAX_REFERENCE_SPAN_MS:  # type: ignore[operator]
                raise InvalidInput(
                    "a records reference spans at most 31 days (each run reads it again); "
                    f"got {(end - start) / 86_400_000:.1f} days",  # type: ignore[operator]
                    {"field": "reference"},
                )

    @classmethod
    def parse(cls, text: str) -> ReferenceSpec:
        """``training``, ``dataset:NAME@V`` or ``records:START_MS..END_MS``."""
        kind, _, rest = text.partition(":")
        if kind == "dataset":
            return cls("dataset", dataset=rest)
        if kind == "records":
            start, _, end = rest.partition("..")
            if not (start.isascii() and start.isdigit() and end.isascii() and end.isdigit()):
                raise InvalidInput(
                    f"a records reference is records:START_MS..END_MS, got {shown(text)}",
                    {"field": "reference"},
                )
            return cls("records", start_ms=int(start), end_ms=int(end))
        if text == "training":
            return cls()
        raise InvalidInput(
            f"reference must be training, dataset:NAME@V or records:START..END, got {shown(text)}",
            {"field": "reference"},
        )

    def __str__(self) -> str:
        if self.kind == "dataset":
            return f"dataset:{self.dataset}"
        if self.kind == "records":
            return f"records:{self.start_ms}..{self.end_ms}"
        return "training"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dataset": self.dataset,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
        }


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """What a monitor watches and how.

    Windows are of time (``window_s`` seconds, aligned to the epoch) or of count
    (``window_rows`` records each, in time order); exactly one is set. A time window is
    evaluated once ``outcome_delay_s`` has passed after its end, so late outcomes still join.
    ``drift`` holds :class:`~gnomon.monitoring.drift.DriftConfig` settings as a mapping.
    ``schedule_s``: how often a server or ``gnomon worker`` runs it (None: on demand only).
    """

    deployment: str
    reference: ReferenceSpec = field(default_factory=ReferenceSpec)
    window_s: int | None = 3600
    window_rows: int | None = None
    outcome_delay_s: int = 0
    segment: str | None = None
    task: str = "auto"
    columns: tuple[str, ...] = ()  # the contract's inputs when empty
    drift: Mapping[str, Any] = field(default_factory=dict)
    schedule_s: int | None = None
    description: str = ""
    start_ms: int | None = None  # records before it are never evaluated (default: all)

    def __post_init__(self) -> None:
        check_name(self.deployment, "deployment")
        if self.start_ms is not None:
            _bounded("start_ms", self.start_ms, 0, 2**53)
        if (self.window_s is None) == (self.window_rows is None):
            raise InvalidInput(
                "a monitor has either a time window or a count window, not both or neither",
                {"field": "window"},
            )
        if self.window_s is not None:
            _bounded("window", self.window_s, MIN_WINDOW_S, MAX_WINDOW_S)
        if self.window_rows is not None:
            _bounded("window_rows", self.window_rows, 10, MAX_COUNT_WINDOW)
        _bounded("outcome_delay", self.outcome_delay_s, 0, MAX_DELAY_S)
        if self.schedule_s is not None:
            _bounded("schedule", self.schedule_s, MIN_WINDOW_S, MAX_WINDOW_S)
        if self.task not in TASKS:
            raise InvalidInput(f"task must be one of {list(TASKS)}, got {shown(self.task)}")
        for column in (*self.columns, *([self.segment] if self.segment is not None else [])):
            if not isinstance(column, str) or not column or len(column) > 1000:
                raise InvalidInput(
                    f"column names must be text of 1-1000 characters: {shown(column)}"
                )
            problem = text_problem(column)
            if problem:
                raise InvalidInput(f"column name {shown(column)} {problem}")
        if len(self.columns) > 4096:
            raise InvalidInput(f"a monitor watches at most 4096 columns, got {len(self.columns)}")
        seen: set[str] = set()
        repeated = sorted({c for c in self.columns if c in seen or seen.add(c)})[:5]
        if repeated:
            raise InvalidInput(f"columns are named more than once: {repeated}")
        if not isinstance(self.description, str) or len(self.description) > 5000:
            raise InvalidInput("description must be text of at most 5000 characters")
        if not isinstance(self.drift, Mapping):
            raise InvalidInput(f"drift settings must be a mapping, got {shown(self.drift)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "reference": self.reference.to_dict(),
            "window_s": self.window_s,
            "window_rows": self.window_rows,
            "outcome_delay_s": self.outcome_delay_s,
            "segment": self.segment,
            "task": self.task,
            "columns": list(self.columns),
            "drift": dict(self.drift),
            "schedule_s": self.schedule_s,
            "description": self.description,
            "start_ms": self.start_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorSpec:
        """Raises ``InvalidInput`` naming the first bad field."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"a monitor spec must be a mapping, got {shown(data)}")
        unknown = sorted(set(data) - _SPEC_FIELDS)
        if unknown:
            raise InvalidInput(f"a monitor spec has unknown fields {unknown[:5]}")
        reference = data.get("reference") or {}
        if not isinstance(reference, Mapping):
            raise InvalidInput(f"reference must be a mapping, got {shown(reference)}")
        columns = data.get("columns") or ()
        if not isinstance(columns, list | tuple):
            raise InvalidInput(f"columns must be a list, got {shown(columns)}")
        return cls(
            deployment=data.get("deployment"),  # type: ignore[arg-type]  # checked in post_init
            reference=ReferenceSpec(**{k: v for k, v in reference.items() if k in _REF_FIELDS}),
            window_s=data.get("window_s", 3600 if data.get("window_rows") is None else None),
            window_rows=data.get("window_rows"),
            outcome_delay_s=data.get("outcome_delay_s", 0),
            segment=data.get("segment"),
            task=data.get("task", "auto"),
            columns=tuple(columns),
            drift=data.get("drift") or {},
            schedule_s=data.get("schedule_s"),
            description=data.get("description", ""),
            start_ms=data.get("start_ms"),
        )


_SPEC_FIELDS = frozenset(MonitorSpec.__dataclass_fields__)
_REF_FIELDS = frozenset(ReferenceSpec.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Monitor:
    """A stored monitor: its spec, and how far its windows have been evaluated.

    ``watermark_ms``: every record before it has been evaluated (time windows), or the time
    of the last record of the last full count window.
    """

    id: str
    workspace_id: str
    name: str
    spec: MonitorSpec
    created_time: int
    created_by: str
    updated_time: int
    watermark_ms: int | None = None
    last_run_ms: int | None = None

    def with_spec(self, spec: MonitorSpec) -> Monitor:
        return replace(self, spec=spec)


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of a window: its flat name, its value (None: not computable, e.g. too few
    rows), and its Prometheus family and labels."""

    name: str
    value: float | None
    family: str
    labels: tuple[tuple[str, str], ...] = ()

    def to_list(self) -> list[Any]:
        return [self.name, self.value, self.family, [list(pair) for pair in self.labels]]

    @classmethod
    def from_list(cls, data: list[Any]) -> Figure:
        name, value, family, labels = data
        return cls(name, value, family, tuple((str(k), str(v)) for k, v in labels))


@dataclass(frozen=True, slots=True)
class WindowResult:
    """What one window of records gave: ``figures`` by name, and ``details`` (JSON: the
    drift report with histograms, quality per column, performance tables, top outliers)."""

    monitor: str
    start_ms: int
    end_ms: int
    rows: int
    figures: tuple[Figure, ...]
    details: Mapping[str, Any]
    computed_ms: int

    def figure(self, name: str) -> float | None:
        for found in self.figures:
            if found.name == name:
                return found.value
        return None

    @property
    def values(self) -> dict[str, float | None]:
        return {f.name: f.value for f in self.figures}


def figure(
    name: str, value: float | None, family: str, **labels: str
) -> Figure:  # a NaN is "not computable": None, never a NaN in JSON
    if value is not None and not math.isfinite(value):
        value = None
    return Figure(name, None if value is None else float(value), family, tuple(labels.items()))


@dataclass(frozen=True, slots=True)
class MonitorRun:
    """What one run did: the windows it evaluated (oldest first) and where it stopped."""

    monitor: str
    windows: tuple[WindowResult, ...]
    watermark_ms: int | None
    skipped: str | None = None  # why nothing ran (e.g. a lease held by another worker)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded(what: str, value: object, low: int, high: int) -> None:
    if not _is_int(value) or not low <= value <= high:  # type: ignore[operator]
        raise InvalidInput(
            f"{what} must be a whole number from {low} to {high}, got {shown(value)}",
            {"field": what},
        )


__all__ = [
    "Figure",
    "Monitor",
    "MonitorRun",
    "MonitorSpec",
    "ReferenceSpec",
    "WindowResult",
    "check_limit",
    "check_name",
    "figure",
    "not_found",
    "parse_duration",
]
