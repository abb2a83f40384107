"""An outlier detector fitted on the reference: a robust distance over numeric columns.

Each numeric column is centred on its median and scaled by its MAD (1.4826 times the median
absolute deviation, the standard deviation of a normal column; the IQR or the standard
deviation where the MAD is 0). A row's score is the root mean square of its scaled values,
so one wild column and many slightly-off ones both count; a row is an outlier above the
reference's own 99.5th percentile of scores. It is plain numbers (JSON), fitted once per
reference and stored with the monitor, so no model is unpickled to score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

QUANTILE = 0.995
MAD_SCALE = 1.4826
TOP = 10  # the most anomalous records kept per window


@dataclass(frozen=True, slots=True)
class OutlierDetector:
    columns: tuple[str, ...]
    centres: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float

    @classmethod
    def fit(cls, columns: Mapping[str, np.ndarray]) -> OutlierDetector | None:
        """Fitted on ``columns`` (name → float values, NaN for nulls); None without any."""
        import numpy as np

        names, centres, scales = [], [], []
        for name, values in columns.items():
            present = values[~np.isnan(values)]
            if present.size < 10:
                continue
            centre = float(np.median(present))
            scale = float(np.median(np.abs(present - centre))) * MAD_SCALE
            if scale == 0:
                q1, q3 = np.quantile(present, [0.25, 0.75])
                scale = float(q3 - q1) / 1.349 or float(np.std(present))
            if scale > 0:
                names.append(name)
                centres.append(centre)
                scales.append(scale)
        if not names:
            return None
        detector = cls(tuple(names), tuple(centres), tuple(scales), float("inf"))
        scores = detector.scores(columns)
        threshold = float(np.quantile(scores[~np.isnan(scores)], QUANTILE))
        return cls(detector.columns, detector.centres, detector.scales, threshold)

    def scores(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """A score per row (NaN where every column is null), a column at a time: a window's
        rows times its columns never sit in memory at once."""
        import numpy as np

        rows = len(columns[self.columns[0]])
        total, counted = np.zeros(rows), np.zeros(rows)
        for name, centre, scale in zip(self.columns, self.centres, self.scales, strict=True):
            scaled = (np.asarray(columns[name], dtype=float) - centre) / scale
            present = ~np.isnan(scaled)
            total += np.where(present, scaled * scaled, 0.0)
            counted += present
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(total / counted)  # 0 / 0: NaN, a row with no value

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "centres": list(self.centres),
            "scales": list(self.scales),
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutlierDetector:
        return cls(
            tuple(data["columns"]),
            tuple(data["centres"]),
            tuple(data["scales"]),
            float(data["threshold"]),
        )


def outliers(
    detector: OutlierDetector, columns: Mapping[str, np.ndarray], request_ids: Any
) -> tuple[float | None, list[dict[str, Any]]]:
    """The share of rows above the threshold, and the ``TOP`` most anomalous rows (request
    id, score, and the values of the columns that scored); ``request_ids`` is a sequence or
    an Arrow column, read only at those rows."""
    import numpy as np

    scores = detector.scores(columns)
    scored = ~np.isnan(scores)
    if not scored.any():
        return None, []
    rate = float(np.count_nonzero(scores[scored] > detector.threshold) / np.count_nonzero(scored))
    ranked = np.where(scored, -scores, np.inf)
    best = np.argpartition(ranked, min(TOP, len(ranked) - 1))[:TOP] if len(ranked) > TOP else None
    order = sorted(range(len(ranked)) if best is None else best.tolist(), key=ranked.__getitem__)
    top = [
        {
            "request_id": _text(request_ids[i]),
            "score": float(scores[i]),
            "values": {n: _plain(columns[n][i]) for n in detector.columns},
        }
        for i in order[:TOP]
        if scored[i] and scores[i] > detector.threshold
    ]
    return rate, top


def _text(value: Any) -> str:
    as_py = getattr(value, "as_py", None)  # an Arrow scalar
    return str(as_py() if callable(as_py) else value)


def _plain(value: Any) -> float | None:
    number = float(value)
    return None if number != number else number


__all__ = ["OutlierDetector", "outliers"]
