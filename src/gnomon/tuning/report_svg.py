"""Inline SVG charts of a study, drawn here (no chart library, nothing fetched, no ``style``
attribute, so they pass the UI's and the report's Content-Security-Policy alike): the
optimisation history and the parameters' importances. Parameter and study names come from
clients: every text goes through ``esc``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from gnomon.data import profile_svg
from gnomon.data.profile_svg import esc, short
from gnomon.monitoring.report_svg import PALETTE, WORSE, number
from gnomon.tuning.analysis import StudyReport

MAX_POINTS = 2_000  # trials drawn as points; beyond, every k-th (improvements always)
MAX_BARS = 50  # parameters drawn, the most important first
BEST = WORSE  # the best-so-far line stands out against the points
HOLLOW = "#999"

_Scale = Callable[[float], float]  # x() and y(): a trial number or value to pixels


def figure(found: object) -> str:
    """A trial's value or parameter as plain text for people (escape it to use it as HTML):
    six significant digits (trials often differ in the fourth), whole numbers in full."""
    if found is None or (isinstance(found, float) and math.isnan(found)):
        return "—"
    if isinstance(found, bool) or not isinstance(found, int | float):
        return str(found)
    if isinstance(found, int):
        return f"{found:,}"
    if math.isinf(found):
        return "inf" if found > 0 else "-inf"
    if found.is_integer() and abs(found) < 1e15:
        return f"{int(found):,}"
    return f"{found:.6g}"


def history_chart(report: StudyReport, size: tuple[int, int] = (640, 240)) -> str:
    """Each completed trial's value (first objective) by trial number, the best so far as a
    step line, and pruned or failed trials hollow on the axis; empty without a completed
    trial."""
    history = report.history()
    if not history:
        return ""
    metric = report.metric_names[0]
    width, height = size
    left, top, right, bottom = 60, 22, 14, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, v, _ in history]
    low, high = min(values), max(values)
    if not high - low > 0:  # one value (at 9e15, ±0.5 is lost in rounding: widen by its size)
        pad = max(0.5, abs(low) * 1e-3)
        low, high = low - pad, high + pad
    last = max(row.number for row in report.trials)

    def x(n: float) -> float:
        return left + (n / last * plot_w if last else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    parts = [
        _open("history", report.study.name, width, height),
        _axes(left, top, plot_w, plot_h),
        _step_line(history, x, y, x(last)),
        _points(history, x, y, metric),
        _hollow(report, x, top + plot_h),
        _label(left - 4, top + 8, number(high), "end"),
        _label(left - 4, top + plot_h, number(low), "end"),
        _label(left, height - 8, "trial 0", "start"),
        _label(left + plot_w, height - 8, f"trial {last:,}", "end"),
        _legend(left, metric, report.study.directions[0]),
        "</svg>",
    ]
    return "".join(parts)


def importance_bars(report: StudyReport) -> str:
    """Each parameter's share of the first objective's variance, the most important first
    (at most ``MAX_BARS``); empty when the report has none."""
    ranked = sorted(report.importances.items(), key=lambda item: -item[1])[:MAX_BARS]
    if not ranked:
        return ""
    labels = [name for name, _ in ranked]
    shares = [share if math.isfinite(share) else 0.0 for _, share in ranked]
    tips = [
        f"{name}: {share:.1%} of the variance" for name, share in zip(labels, shares, strict=True)
    ]
    return profile_svg.bars("importances", report.study.name, labels, [shares], [tips])


def _step_line(
    history: Sequence[tuple[int, float, float]], x: _Scale, y: _Scale, end: float
) -> str:
    """Only where the best changes: a study of many trials improves a few dozen times."""
    path, previous = [], None
    for n, _, best in history:
        if previous is None:
            path.append(f"M{x(n):.1f} {y(best):.1f}")
        elif best != previous:
            path.append(f"H{x(n):.1f} V{y(best):.1f}")
        previous = best
    path.append(f"H{end:.1f}")
    return (
        f'<path class="best" d="{" ".join(path)}" fill="none" stroke="{BEST}" stroke-width="1.5"/>'
    )


def _points(history: Sequence[tuple[int, float, float]], x: _Scale, y: _Scale, metric: str) -> str:
    stride = math.ceil(len(history) / MAX_POINTS)
    improved = [i for i, row in enumerate(history) if i == 0 or row[2] != history[i - 1][2]]
    kept = set(improved) if len(improved) <= MAX_POINTS else set()  # else sampled like the rest
    parts = [f'<g class="trials" fill="{PALETTE[0]}" fill-opacity="0.75">']
    for index, (n, v, _) in enumerate(history):
        if index % stride and index not in kept:
            continue
        parts.append(
            f'<circle class="trial" cx="{x(n):.1f}" cy="{y(v):.1f}" r="3">'
            f"<title>trial {n:,}: {esc(short(metric))} {esc(figure(v))}</title></circle>"
        )
    parts.append("</g>")
    return "".join(parts)


def _hollow(report: StudyReport, x: _Scale, axis: float) -> str:
    others = [t for t in report.trials if t.state in ("PRUNED", "FAIL")]
    stride = math.ceil(len(others) / MAX_POINTS) or 1
    parts = [f'<g class="stopped" fill="none" stroke="{HOLLOW}">']
    for trial in others[::stride]:
        step = f" at step {trial.last_step:,}" if trial.last_step is not None else ""
        parts.append(
            f'<circle class="trial {trial.state.lower()}" cx="{x(trial.number):.1f}" '
            f'cy="{axis}" r="3"><title>trial {trial.number:,}: {trial.state}{step}</title>'
            "</circle>"
        )
    parts.append("</g>")
    return "".join(parts)


def _legend(left: float, metric: str, direction: str) -> str:
    return (
        f'<circle cx="{left + 6}" cy="9" r="3" fill="{PALETTE[0]}"/>'
        + _label(left + 13, 12, f"{short(metric)} ({direction})", "start")
        + f'<path d="M{left + 190} 9 h14" stroke="{BEST}" stroke-width="1.5"/>'
        + _label(left + 208, 12, "best so far", "start")
        + f'<circle cx="{left + 290}" cy="9" r="3" fill="none" stroke="{HOLLOW}"/>'
        + _label(left + 297, 12, "pruned or failed", "start")
    )


def _open(kind: str, name: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart {kind}" data-study="{esc(name)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(kind)} of study {esc(name)}">'
    )


def _axes(left: float, top: float, width: float, height: float) -> str:
    return (
        f'<path d="M{left} {top} V{top + height} H{left + width}" fill="none" stroke="#777" '
        'stroke-width="1"/>'
    )


def _label(x: float, y: float, text: str, anchor: str) -> str:
    """``text`` is escaped here."""
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" text-anchor="{anchor}">{esc(text)}</text>'


__all__ = ["MAX_BARS", "MAX_POINTS", "figure", "history_chart", "importance_bars"]
