"""What a dashboard reads beside the runs: per experiment its run count and last activity,
and a metric's series cut to at most N points (the lowest and highest value per step bucket,
so spikes survive the cut) for charts of 100,000-point histories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gnomon.errors import InvalidInput

MAX_SERIES_POINTS = 5000  # the most any chart asks for: a screen is narrower
MAX_ACTIVITY_EXPERIMENTS = 1000  # experiments per activity read: one bound parameter each


@dataclass(frozen=True, slots=True)
class ExperimentActivity:
    experiment_id: str
    runs: int
    last_activity: int | None  # the newest run start or end, milliseconds since the epoch


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One metric's points in step order; ``total`` is how many were logged in the range,
    more than ``len(steps)`` when the series was cut."""

    key: str
    steps: list[int]
    values: list[float | None]
    total: int

    @property
    def downsampled(self) -> bool:
        return self.total > len(self.steps)


def bucket_width(first: int, last: int, max_points: int) -> int:
    """Steps per bucket so that two points per bucket stay within ``max_points``."""
    buckets = max(1, max_points // 2)
    return max(1, -(-(last - first + 1) // buckets))


def min_max_points(
    buckets: Sequence[tuple[int, int, float | None, float | None]],
) -> tuple[list[int], list[float | None]]:
    """One step-ordered series from (first step, last step, lowest, highest) per bucket: each
    bucket gives its lowest and highest value, at its first and last step, the one nearer the
    previous bucket's last value first, so a rising or falling curve is drawn without a
    sawtooth."""
    steps: list[int] = []
    values: list[float | None] = []
    for i, (first, last, low, high) in enumerate(buckets):
        if first == last or low == high or low is None or high is None:
            steps.append(first)
            values.append(low)
            continue
        previous = values[-1] if values else None
        if previous is not None:
            high_first = abs(high - previous) < abs(low - previous)
        else:  # the first bucket: falling towards the next one means its top came first
            following = buckets[i + 1] if i + 1 < len(buckets) else None
            after = _middle(following[2], following[3]) if following else None
            high_first = after is not None and after < (low + high) / 2
        steps += [first, last]
        values += [high, low] if high_first else [low, high]
    return steps, values


def _middle(low: float | None, high: float | None) -> float | None:
    return None if low is None or high is None else (low + high) / 2


def series_of(
    key: str,
    points: Sequence[tuple[int, float | None]],
    max_points: int,
    steps: tuple[int | None, int | None] = (None, None),
) -> MetricSeries:
    """The same cut as the SQL store's, over (step, value) points already read in order."""
    low, high = steps
    kept = [p for p in points if (low is None or p[0] >= low) and (high is None or p[0] <= high)]
    if len(kept) <= max_points:
        return MetricSeries(key, [p[0] for p in kept], [p[1] for p in kept], len(kept))
    first = kept[0][0]
    width = bucket_width(first, kept[-1][0], max_points)
    grouped: dict[int, list[tuple[int, float | None]]] = {}
    for point in kept:
        grouped.setdefault((point[0] - first) // width, []).append(point)
    buckets = []
    for members in grouped.values():
        values = [v for _, v in members if v is not None]
        low_v, high_v = (min(values), max(values)) if values else (None, None)
        buckets.append((members[0][0], members[-1][0], low_v, high_v))
    xs, ys = min_max_points(buckets)
    return MetricSeries(key, xs, ys, len(kept))


def check_max_points(max_points: int) -> int:
    if not 2 <= max_points <= MAX_SERIES_POINTS:
        raise InvalidInput(f"max_points must be 2..{MAX_SERIES_POINTS}, got {max_points}")
    return max_points
