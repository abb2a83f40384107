"""A monitor's report as one self-contained HTML page: inline CSS and inline SVG, no script and
nothing fetched, so it passes ``Content-Security-Policy: default-src 'none'; style-src
'unsafe-inline'`` and opens offline or from an e-mail.

The page charts the newest ``MAX_WINDOWS`` windows over time (drift share, each column's drift
score, outlier rate, performance) and details the latest window that had records: reference and
current histograms per column, data quality, top outliers, performance per arm and segment.
Column names, categories, request ids and monitor names come from clients: all are escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gnomon.data import profile_svg
from gnomon.data.profile_html import STYLE as PROFILE_STYLE
from gnomon.data.profile_svg import esc
from gnomon.monitoring.drift_config import DriftConfig
from gnomon.monitoring.entities import Monitor, WindowResult
from gnomon.monitoring.performance import CLASSIFICATION, REGRESSION
from gnomon.monitoring.report_svg import (
    PALETTE,
    Series,
    finite,
    is_worse,
    line_chart,
    metric_bars,
    number,
    utc,
)

POLICY = "default-src 'none'; style-src 'unsafe-inline'"
MAX_WINDOWS = 200  # the newest windows are charted
MAX_COLUMNS = 50  # columns shown in full; the rest are counted
MAX_SEGMENTS = 20
MAX_OUTLIER_VALUES = 10  # values shown per top outlier
STYLE = (
    PROFILE_STYLE
    + """
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{color:#666}
dd{margin:0;word-break:break-all}tr.drift td,.column.drift,tr.worse td{background:#fdf0ee}
.status-drift{color:#b3261e;font-weight:bold}.multiples{display:flex;flex-wrap:wrap;gap:12px}
.multiples figure{border:1px solid #eee;border-radius:4px;padding:4px}
figcaption{word-break:break-all;max-width:260px;font-size:13px}td.bad{color:#b3261e}
td.best{font-weight:bold}td.values{text-align:left;font-size:12px}
.empty{padding:24px;border:1px dashed #bbb;border-radius:6px;color:#555}
"""
)
_NO_RECORDS = '<p class="note">No window has records yet.</p>'


@dataclass(frozen=True, slots=True)
class _Timeline:
    """The charted windows, oldest first, with their figures by name (read once)."""

    windows: Sequence[WindowResult]
    values: Sequence[Mapping[str, float | None]]

    def series(self, name: str) -> list[float | None]:
        return [values.get(name) for values in self.values]

    def suffixes(self, prefix: str) -> list[str]:
        """What follows ``prefix`` in figure names, the newest window's first."""
        found: dict[str, None] = {}
        for values in reversed(self.values):
            found.update((n[len(prefix) :], None) for n in values if n.startswith(prefix))
        return list(found)

    def chart(self, kind: str, name: str, series: Sequence[Series], **options: Any) -> str:
        spans = [(w.start_ms, w.end_ms) for w in self.windows]
        return line_chart(kind, name, spans, series, **options)


def report_html(monitor: Monitor, windows: Sequence[WindowResult]) -> str:
    """The report page of ``monitor`` over ``windows`` (in any order): a summary, drift over
    time and in the latest window with records, data quality, outliers and performance; an
    empty state when there are no windows.

    Example:
        >>> windows = service.results(scope, "web-drift")  # doctest: +SKIP
        >>> report_html(service.get(scope, "web-drift"), windows)  # doctest: +SKIP
        '<!doctype html><html lang="en">...'
    """
    ordered = sorted(windows, key=lambda w: (w.start_ms, w.end_ms))
    shown = ordered[-MAX_WINDOWS:]
    timeline = _Timeline(shown, [w.values for w in shown])
    latest = next((w for w in reversed(ordered) if w.rows > 0), None)
    body = [_summary(monitor, ordered, len(shown), latest)]
    if not ordered:
        body.append(
            '<p class="empty">No window has been evaluated yet: the report fills in once the '
            "monitor has run over the deployment's records.</p>"
        )
    else:
        body += [
            _drift(monitor, timeline, latest),
            _prediction_drift(timeline, latest),
            _quality(timeline, latest),
            _outliers(timeline, latest),
            _performance(timeline, latest),
        ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Monitor {esc(monitor.name)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(part for part in body if part)
        + '<p class="note">Made by gnomon from the stored windows; times are UTC.</p>'
        "</body></html>\n"
    )


def _summary(
    monitor: Monitor, ordered: Sequence[WindowResult], charted: int, latest: WindowResult | None
) -> str:
    spec = monitor.spec
    rows = spec.window_rows
    count = f"{len(ordered):,}"
    if charted < len(ordered):
        count += f" (the newest {charted:,} are charted)"
    span = f"{utc(ordered[0].start_ms)} to {utc(ordered[-1].end_ms)}" if ordered else "—"
    items = [
        ("deployment", esc(spec.deployment)),
        ("reference", f"<code>{esc(spec.reference)}</code>"),
        ("window", f"{rows:,} records" if rows is not None else _duration(spec.window_s)),
        ("windows", count),
        ("time span", span),
    ]
    if latest is not None:
        drifted = _list(_mapping(latest.details.get("drift")).get("drifted"))
        items.append(("latest window with records", _window_words(latest)))
        items.append(("drifting columns there", _names(drifted) if drifted else "none"))
    listed = "".join(f"<dt>{key}</dt><dd>{value}</dd>" for key, value in items)
    about = f"<p>{esc(spec.description)}</p>" if spec.description else ""
    return (
        f'<h1>Monitor <code>{esc(monitor.name)}</code></h1>{about}<dl class="summary">{listed}</dl>'
    )


def _drift(monitor: Monitor, timeline: _Timeline, latest: WindowResult | None) -> str:
    chosen = monitor.spec.drift.get("drift_share")
    limit = float(chosen) if finite(chosen) else DriftConfig().drift_share
    share = timeline.chart(
        "drift-share", "drift share", [("drift share", timeline.series("drift.share"))], limit=limit
    )
    drifted = set(_list(_mapping(latest.details.get("drift")).get("drifted"))) if latest else set()
    names = sorted(timeline.suffixes("drift.score."), key=lambda name: name not in drifted)
    multiples = "".join(_score_chart(timeline, name) for name in names[:MAX_COLUMNS])
    return (
        f"<h2>Data drift</h2><h3>Share of drifting columns</h3>{share}"
        f'<p class="note">The dashed line is the share at which the dataset drifts '
        f"({number(limit)}).</p><h3>Drift score per column</h3>"
        '<p class="note">The test statistic per window, drifting columns first; red points are '
        f'windows where the column drifted.</p><div class="multiples">{multiples}</div>'
        + left_out(len(names) - MAX_COLUMNS, "column")
        + _latest_drift(latest)
    )


def _score_chart(timeline: _Timeline, column: str) -> str:
    scores = timeline.series(f"drift.score.{column}")
    marks = [v == 1.0 for v in timeline.series(f"drift.detected.{column}")]
    chart = timeline.chart("drift-score", column, [(column, scores)], marks=marks, size=(260, 110))
    return f"<figure>{chart}<figcaption>{esc(column)}</figcaption></figure>"


def _latest_drift(latest: WindowResult | None) -> str:
    report = _mapping(latest.details.get("drift")) if latest else {}
    columns = [c for c in _list(report.get("columns")) if isinstance(c, Mapping)]
    if latest is None or not columns:
        return _NO_RECORDS
    ordered = sorted(columns, key=lambda c: c.get("status") != "drift")  # drifting first
    kept = ordered[:MAX_COLUMNS]
    rows = [_drift_row(c) for c in kept]
    heads = ("column", "kind", "test", "statistic", "adjusted p", "threshold", "status")
    return (
        f"<h3>Latest window: {_window_words(latest)}</h3><p>Drift share "
        f"{number(report.get('drift_share'))}, dataset drift: "
        f"<b>{'yes' if report.get('dataset_drift') else 'no'}</b>, p-values adjusted by "
        f"<code>{esc(report.get('correction'))}</code>.</p>"
        + table(heads, rows, "drift")
        + left_out(len(ordered) - len(kept), "column")
        + _reference_legend()
        + f'<div class="columns">{"".join(_drift_card(c) for c in kept)}</div>'
    )


def _drift_row(column: Mapping[str, Any]) -> str:
    status = esc(column.get("status"))
    cells = [
        esc(column.get("column")),
        esc(column.get("kind")),
        esc(column.get("test")),
        number(column.get("statistic")),
        number(column.get("adjusted_p")),
        number(column.get("threshold")),
        f'<span class="status-{status}">{status}</span>',
    ]
    return f'<tr class="{status}">{"".join(f"<td>{cell}</td>" for cell in cells)}</tr>'


def _drift_card(column: Mapping[str, Any]) -> str:
    name = str(column.get("column"))
    status = esc(column.get("status"))
    return (
        f'<article class="column {status}"><h3>{esc(name)} <span class="type">'
        f"{esc(column.get('kind'))}, {esc(column.get('test'))}</span> "
        f'<span class="status-{status}">{status}</span></h3>'
        f"{histogram_svg(name, _mapping(column.get('histogram')))}"
        f'<p class="note">{number(column.get("n_reference"))} reference and '
        f"{number(column.get('n_current'))} current values; statistic "
        f"{number(column.get('statistic'))}, adjusted p {number(column.get('adjusted_p'))}, "
        f"threshold {number(column.get('threshold'))}.</p></article>"
    )


def histogram_svg(name: str, histogram: Mapping[str, Any]) -> str:
    """Reference and current overlaid, each as shares of its own values."""
    reference, current = _counts(histogram.get("reference")), _counts(histogram.get("current"))
    nothing = '<p class="note">no values to draw</p>'
    if not reference or len(reference) != len(current) or not sum(reference) + sum(current):
        return nothing
    edges = [e for e in _list(histogram.get("edges")) if finite(e)]
    if len(edges) == len(reference) + 1:
        return profile_svg.histogram(name, edges, [reference, current])
    labels = [str(c) for c in _list(histogram.get("categories"))]
    if len(labels) != len(reference):
        return nothing
    series, tips = [], []
    for side, counts in (("reference", reference), ("current", current)):
        total = sum(counts) or 1
        series.append([count / total for count in counts])
        tips.append([f"{side}: {count:,} values" for count in counts])
    return profile_svg.bars("categories", name, labels, series, tips)


def _prediction_drift(timeline: _Timeline, latest: WindowResult | None) -> str:
    scores = timeline.series("drift.prediction.score")
    report = _mapping(latest.details.get("prediction_drift")) if latest else {}
    columns = [c for c in _list(report.get("columns")) if isinstance(c, Mapping)]
    if not columns and all(v is None for v in scores):
        return ""
    marks = [v == 1.0 for v in timeline.series("drift.prediction.detected")]
    chart = timeline.chart("prediction-drift", "prediction", [("score", scores)], marks=marks)
    cards = "".join(_drift_card({**c, "column": "prediction"}) for c in columns[:1])
    legend = _reference_legend() if cards else ""
    return f'<h2>Prediction drift</h2>{chart}{legend}<div class="columns">{cards}</div>'


_QUALITY = {
    "nulls": "nulls",
    "out_of_range": "out of range",
    "unseen": "unseen categories",
    "type_errors": "type errors",
}


def _quality(timeline: _Timeline, latest: WindowResult | None) -> str:
    found = _mapping(latest.details.get("quality")) if latest else {}
    if latest is None or not found:
        return f"<h2>Data quality</h2>{_NO_RECORDS}"
    columns = [(str(n), _mapping(c)) for n, c in _mapping(found.get("columns")).items()]
    columns.sort(key=lambda item: -sum(_count(item[1].get(key)) for key in _QUALITY))
    rows = []
    for name, counts in columns[:MAX_COLUMNS]:  # the worst first
        cells = [f"<td>{esc(name)}</td>"]
        for key in _QUALITY:
            count = _count(counts.get(key))
            rate = f" ({number(100 * count / latest.rows)}%)" if count else ""
            cells.append(f'<td class="{"bad" if count else ""}">{count:,}{rate}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    rejected = timeline.series("quality.rejected")
    chart = (
        "<h3>Rejected rows per window</h3>"
        + timeline.chart("rejected", "rejected rows", [("rejected rows", rejected)])
        if any(v is not None for v in rejected)
        else ""
    )
    return (
        f"<h2>Data quality</h2><p>Latest window: {_window_words(latest)}; "
        f"{_count(found.get('rejected')):,} rows were rejected for breaking the input "
        "contract.</p>"
        + table(("column", *_QUALITY.values()), rows, "quality")
        + left_out(len(columns) - MAX_COLUMNS, "column")
        + chart
    )


def _outliers(timeline: _Timeline, latest: WindowResult | None) -> str:
    rates = timeline.series("outliers.rate")
    found = _mapping(latest.details.get("outliers")) if latest else {}
    if not found and all(v is None for v in rates):
        return (
            '<h2>Outliers</h2><p class="note">No outlier detector: the reference has no numeric '
            "column that varies.</p>"
        )
    rows = [
        f"<tr><td><code>{esc(item.get('request_id'))}</code></td>"
        f'<td>{number(item.get("score"))}</td><td class="values">{_values(item)}</td></tr>'
        for item in _list(found.get("top"))
        if isinstance(item, Mapping)
    ]
    top = table(("request id", "score", "values"), rows, "outliers") if rows else ""
    return (
        "<h2>Outliers</h2><p>Share of rows scoring above the reference's 99.5th percentile "
        f"({number(found.get('threshold'))}).</p>"
        + timeline.chart("outlier-rate", "outlier rate", [("outlier rate", rates)])
        + "<h3>Top outliers of the latest window</h3>"
        + (top or '<p class="note">None.</p>')
    )


def _values(outlier: Mapping[str, Any]) -> str:
    values = list(_mapping(outlier.get("values")).items())
    shown = ", ".join(f"{esc(k)} = {number(v)}" for k, v in values[:MAX_OUTLIER_VALUES])
    more = len(values) - MAX_OUTLIER_VALUES
    return shown + (f", and {more:,} more" if more > 0 else "")


def _performance(timeline: _Timeline, latest: WindowResult | None) -> str:
    found = _mapping(latest.details.get("performance")) if latest else {}
    found_series = [
        (m, timeline.series(f"performance.{m}")) for m in (*CLASSIFICATION, *REGRESSION)
    ]
    metrics = [(m, values) for m, values in found_series if any(v is not None for v in values)]
    if not metrics and not found.get("task"):
        return (
            '<h2>Performance</h2><p class="note">No outcomes have arrived for the charted '
            "windows: performance shows once ground truth is sent.</p>"
        )
    parts = ["<h2>Performance</h2>"]
    if metrics:
        parts += [timeline.chart("performance", "performance", metrics), _legend(metrics)]
    if found.get("task"):
        parts += [
            f"<h3>Latest window: {esc(found.get('task'))}, {_count(found.get('outcomes')):,} "
            "outcomes</h3>",
            _arms(found),
            _segments(found),
        ]
    return "".join(parts)


def _arms(found: Mapping[str, Any]) -> str:
    """Overall and each arm side by side, the best value of each metric in bold."""
    arms: dict[str, Mapping[str, Any]] = {
        "overall": {"outcomes": found.get("outcomes"), "metrics": found.get("overall")}
    }
    arms.update((str(role), _mapping(arm)) for role, arm in _mapping(found.get("arms")).items())
    rows = [
        f"<tr><td>{key}</td>{''.join(f'<td>{number(a.get(key))}</td>' for a in arms.values())}</tr>"
        for key in ("version", "outcomes")
    ]
    for metric in _metric_names(_mapping(arm.get("metrics")) for arm in arms.values()):
        values = [_mapping(arm.get("metrics")).get(metric) for arm in arms.values()]
        numbers = [v for v in values if finite(v)]
        best = (min if metric in REGRESSION else max)(numbers) if len(numbers) > 1 else None
        cells = "".join(
            f'<td class="{"best" if v == best else ""}">{number(v)}</td>' for v in values
        )
        rows.append(f"<tr><td>{esc(metric)}</td>{cells}</tr>")
    return table(("", *(esc(name) for name in arms)), rows, "arms")


def _segments(found: Mapping[str, Any]) -> str:
    """The segments with most outcomes, worst first on the task's main metric."""
    segments = [(str(v), _mapping(s)) for v, s in _mapping(found.get("segments")).items()]
    metrics = _metric_names(_mapping(s.get("metrics")) for _, s in segments)
    if not metrics:
        return ""
    preferred = "rmse" if found.get("task") == "regression" else "accuracy"
    metric = preferred if preferred in metrics else metrics[0]
    lower = metric in REGRESSION
    overall = _mapping(found.get("overall")).get(metric)
    overall = overall if finite(overall) else None

    def value(segment: Mapping[str, Any]) -> float | None:
        found = _mapping(segment.get("metrics")).get(metric)
        return found if finite(found) else None

    def badness(item: tuple[str, Mapping[str, Any]]) -> tuple[bool, float]:
        v = value(item[1])
        return (v is None, 0.0 if v is None else -v if lower else v)

    kept = sorted(segments[:MAX_SEGMENTS], key=badness)  # stored by outcomes, most first
    rows = []
    for name, segment in kept:
        worse = is_worse(value(segment), overall, lower)
        cells = "".join(
            f"<td>{number(_mapping(segment.get('metrics')).get(m))}</td>" for m in metrics
        )
        rows.append(
            f'<tr class="{"worse" if worse else ""}"><td>{esc(name)}</td>'
            f"<td>{number(segment.get('outcomes'))}</td>{cells}</tr>"
        )
    column = esc(found.get("segment"))
    chart = metric_bars(metric, [(name, value(s)) for name, s in kept], overall, lower)
    return (
        f"<h3>Per value of <code>{column}</code>, worst {esc(metric)} first</h3>{chart}"
        f'<p class="note">Red bars are worse than overall ({number(overall)}, the dashed '
        "line).</p>"
        + table((column, "outcomes", *(esc(m) for m in metrics)), rows, "segments")
        + left_out(len(segments) - len(kept), "segment")
    )


def _legend(series: Sequence[Series]) -> str:
    keys = (
        f'<span class="key" style="background:{PALETTE[i % len(PALETTE)]}"></span> {esc(label)}'
        for i, (label, _) in enumerate(series)
    )
    return f'<p class="legend">{" &nbsp; ".join(keys)}</p>'


def _reference_legend() -> str:
    reference, current = (
        f'<span class="key" style="background:{c}"></span>' for c in profile_svg.COLOURS
    )
    return (
        f'<p class="legend">{reference} reference &nbsp; {current} current: each bar is its '
        "side's share of its values.</p>"
    )


def _window_words(window: WindowResult) -> str:
    return f"{utc(window.start_ms)} to {utc(window.end_ms)}, {window.rows:,} rows"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _names(names: Sequence[Any], limit: int = 10) -> str:
    shown = ", ".join(f"<code>{esc(n)}</code>" for n in names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def _metric_names(found: Iterable[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for metrics in found:
        names.update((str(n), None) for n in metrics)
    return list(names)


def table(heads: Sequence[str], rows: Sequence[str], kind: str) -> str:
    """``heads`` are markup, escaped already."""
    head = "".join(f"<th>{h}</th>" for h in heads)
    return f'<table class="{kind}"><tr>{head}</tr>{"".join(rows)}</table>'


def left_out(count: int, what: str) -> str:
    if count <= 0:
        return ""
    return f'<p class="note">{count:,} more {what}{"s" if count > 1 else ""} left out.</p>'


def _mapping(value: object) -> Mapping[str, Any]:
    """Details are stored JSON: anything not of the expected shape shows as missing."""
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _counts(value: object) -> list[int]:
    return [_count(v) for v in _list(value)]


def _count(value: object) -> int:
    return int(value) if finite(value) else 0


__all__ = ["MAX_COLUMNS", "MAX_SEGMENTS", "MAX_WINDOWS", "POLICY", "report_html"]
