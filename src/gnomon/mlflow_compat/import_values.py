"""A run's MLflow values as gnomon takes them: each checked by gnomon's own rules (one it
refuses is listed in the summary and the rest of the run kept), then cut into batches within
the limits the tracking service and the server enforce."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from gnomon import checks
from gnomon.errors import InvalidInput
from gnomon.mlflow_compat.import_sources import PARENT_TAG, SourceRunData
from gnomon.mlflow_compat.import_summary import ImportSummary
from gnomon.tracking import validation as v
from gnomon.tracking.entities import Metric
from gnomon.tracking.schemas import MAX_BATCH_ENTRIES, MAX_BATCH_METRICS

OWN_TAGS = "gnomon.import."  # the importer's marks: never taken from the source
# A batch's estimated JSON size, well under the server's 32 MiB body limit in remote mode.
BATCH_BYTES = 8 * 2**20
_POINT_BYTES = 80  # a metric point's JSON, besides its key
T = TypeVar("T")


@dataclass(slots=True)
class Batch:
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    size: int = 0  # estimated bytes


def checked_values(data: SourceRunData, subject: str, summary: ImportSummary) -> Batch:
    """Every value of the run gnomon accepts, in one (unbounded) batch."""
    for kind, what, problem in data.problems:
        summary.skip(kind, f"{subject}: {what}", problem)
    values = Batch(metrics=_checked_points(data, subject, summary))
    for key, value in data.params.items():
        why = refusal(_check_param, key, value)
        if why is None:
            values.params[key] = value
        else:
            summary.skip("param", subject, why)
    for key, value in data.tags.items():
        if key == PARENT_TAG:
            continue  # the run's parent link
        why = "reserved for the importer's marks" if key.startswith(OWN_TAGS) else None
        why = why or refusal(_check_tag, key, value)
        if why is None:
            values.tags[key] = value
        else:
            summary.skip("tag", f"{subject}: {key}", why)
    return values


def batches(values: Batch) -> list[Batch]:
    """``values`` in as few batches as the limits allow; at least one, maybe empty."""
    found = [Batch()]

    def room(size: int, full: Callable[[Batch], bool]) -> Batch:
        last = found[-1]
        if full(last) or (last.size and last.size + size > BATCH_BYTES):
            last = Batch()
            found.append(last)
        last.size += size
        return last

    for key, value in values.params.items():
        room(len(key) + len(value), _params_full).params[key] = value
    for key, value in values.tags.items():
        room(len(key) + len(value), _tags_full).tags[key] = value
    for point in values.metrics:
        room(len(point.key) + _POINT_BYTES, _metrics_full).metrics.append(point)
    return found


def valid(
    summary: ImportSummary, what: str, subject: str, value: T | None, check: Callable[[T], T]
) -> T | None:
    """``value`` if gnomon accepts it, else ``None`` (gnomon's default) and a skip."""
    if value is None:
        return None
    why = refusal(check, value)
    if why is None:
        return value
    summary.skip(what, subject, why)
    return None


def refusal(check: Callable[..., object], *args: object) -> str | None:
    """Why ``check(*args)`` refuses its input, or ``None`` when it accepts it."""
    try:
        check(*args)
    except InvalidInput as exc:
        return exc.message
    return None


def _checked_points(data: SourceRunData, subject: str, summary: ImportSummary) -> list[Metric]:
    points: list[Metric] = []
    refused: dict[str, str | None] = {}  # metric key -> why gnomon refuses it, or None
    left_out: Counter[str] = Counter()
    for point in data.metrics:
        key = point.key
        if key not in refused:
            refused[key] = refusal(checks.key, "metric", key)
        if refused[key] is not None:
            left_out[key] += 1
            continue
        why = refusal(_check_point, key, point.step, point.timestamp)
        if why is not None:
            summary.skip("metric point", subject, why)
            continue
        points.append(Metric(key, point.value, point.step, point.timestamp))
    for key, count in left_out.items():
        summary.skip("metric", f"{subject} ({count} points)", str(refused[key]))
    return points


def _check_param(key: str, value: str) -> None:
    checks.key("param", key)
    v.param_value(key, value)


def _check_tag(key: str, value: str) -> None:
    checks.key("tag", key)
    v.tag_value(key, value)


def _check_point(key: str, step: int, timestamp: int) -> None:
    v.check_step(key, step)
    v.check_step(key, timestamp)


def _params_full(batch: Batch) -> bool:
    return len(batch.params) >= MAX_BATCH_ENTRIES


def _tags_full(batch: Batch) -> bool:
    return len(batch.tags) >= MAX_BATCH_ENTRIES


def _metrics_full(batch: Batch) -> bool:
    return len(batch.metrics) >= MAX_BATCH_METRICS
