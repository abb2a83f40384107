"""A study as HTML: ``report_html``, one self-contained page (inline CSS and SVG, no script,
nothing fetched: it passes ``Content-Security-Policy: default-src 'none'; style-src
'unsafe-inline'`` and opens offline), and ``result_html``, the notebook view of what a
``tune`` call left. Study names, parameter names and values come from clients: all escaped.

The web UI's study page shows the same blocks; the helpers it shares are public here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gnomon.data.profile_svg import esc
from gnomon.monitoring.report_html import POLICY, left_out, table
from gnomon.monitoring.report_html import STYLE as REPORT_STYLE
from gnomon.monitoring.report_svg import utc
from gnomon.tracking import html as blocks
from gnomon.tuning.analysis import MAX_IMPORTANCE_TRIALS, StudyReport, TrialRow
from gnomon.tuning.report_svg import figure, history_chart, importance_bars

if TYPE_CHECKING:
    from gnomon.tuning.tune import TuningResult

MAX_TRIAL_ROWS = 500  # the newest trials listed; the rest are counted
MAX_BEST_ROWS = 50  # of a Pareto front
MAX_PARAM_COLUMNS = 12
MAX_TEXT = 80  # characters of a categorical parameter shown
STATES = {  # Optuna's states, in the order counted, as people say them
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}
STYLE = (
    REPORT_STYLE
    + """
td.state-FAIL{color:#b3261e}td.state-PRUNED,td.state-RUNNING,td.state-WAITING{color:#777}
td.params{text-align:left;font-size:12px}code{word-break:break-all}
"""
)


def report_html(report: StudyReport) -> str:
    """The report page of a study: a summary, its best trial(s), the optimisation history,
    the parameters' importances and its newest trials.

    Example:
        >>> report_html(analyze(client.tuning, client.tuning.get_study("churn")))  # doctest: +SKIP
        '<!doctype html><html lang="en">...'
    """
    body = [
        _summary(report),
        _best(report),
        _history(report),
        _importances(report),
        _trials(report),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Study {esc(report.study.name)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + '<p class="note">Made by gnomon from the study\'s journal; times are UTC.</p>'
        "</body></html>\n"
    )


# -- shared with the web UI -------------------------------------------------------------------


def counts(states: dict[str, int]) -> str:
    """``11 trials: 8 complete, 2 pruned, 1 failed`` (plain text)."""
    total = sum(states.values())
    ordered = [s for s in STATES if s in states] + sorted(set(states) - set(STATES))
    parts = ", ".join(f"{states[s]:,} {STATES.get(s, s.lower())}" for s in ordered)
    return f"{total:,} trial{'s' if total != 1 else ''}" + (f": {parts}" if parts else "")


def newest(report: StudyReport) -> list[TrialRow]:
    """The trials listed: the newest ``MAX_TRIAL_ROWS``, newest first."""
    return report.trials[::-1][:MAX_TRIAL_ROWS]


def param_names(report: StudyReport, rows: Sequence[TrialRow]) -> list[str]:
    """The parameters of ``rows``, the search space's order first, then any suggested by
    hand (tables show the first ``MAX_PARAM_COLUMNS``)."""
    space = report.study.settings.get("space")
    found: dict[str, None] = dict.fromkeys(space) if isinstance(space, dict) else {}
    for row in rows:
        found.update(dict.fromkeys(row.params))
    return [str(name) for name in found]


def shown(found: object) -> str:
    """A value or parameter as plain text, long texts cut."""
    text = figure(found)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def seconds(found: float | None) -> str:
    if found is None:
        return "—"
    if found < 60:
        return f"{found:.2f} s" if found < 10 else f"{found:.1f} s"
    return f"{found / 60:.1f} min" if found < 3600 else f"{found / 3600:.1f} h"


def setting(report: StudyReport, key: str) -> str:
    found = report.study.settings.get(key)
    return "none" if found is None else str(found)


# -- the report's blocks ----------------------------------------------------------------------


def _summary(report: StudyReport) -> str:
    study = report.study
    objectives = ", ".join(
        f"<code>{esc(name)}</code> ({esc(direction)})"
        for name, direction in zip(report.metric_names, study.directions, strict=False)
    )
    items = [
        ("objectives", objectives),
        ("sampler", esc(setting(report, "sampler"))),
        ("pruner", esc(setting(report, "pruner"))),
        ("trials", esc(counts(report.states))),
        ("created", f"{utc(study.created_time)} by {esc(study.created_by or '—')}"),
        ("objective", f"<code>{esc(setting(report, 'objective'))}</code>"),
        ("study run", f"<code>{esc(study.run_id or '—')}</code>"),
    ]
    listed = "".join(f"<dt>{key}</dt><dd>{value}</dd>" for key, value in items)
    return f'<h1>Study <code>{esc(study.name)}</code></h1><dl class="summary">{listed}</dl>'


def _best(report: StudyReport) -> str:
    if not report.best:
        return '<h2>Best trial</h2><p class="empty">No trial has completed yet.</p>'
    front = report.study.multi_objective
    size = len(report.best)
    title = f"Pareto front ({size:,} trial{'s' if size > 1 else ''})" if front else "Best trial"
    rows = [
        f"<tr><td>{row.number:,}</td>{_values(row, len(row.values or ()))}"
        f'<td class="params">{_params(row)}</td>'
        f"<td><code>{esc(row.run_id or '—')}</code></td></tr>"
        for row in report.best[:MAX_BEST_ROWS]
    ]
    heads = ("trial", *(esc(n) for n in report.metric_names), "params", "run")
    return f"<h2>{title}</h2>{table(heads, rows, 'best')}" + left_out(
        len(report.best) - MAX_BEST_ROWS, "trial"
    )


def _history(report: StudyReport) -> str:
    chart = history_chart(report)
    if not chart:
        return '<h2>Optimisation history</h2><p class="empty">No trial has completed yet.</p>'
    first = " (the first objective)" if report.study.multi_objective else ""
    return (
        f'<h2>Optimisation history</h2>{chart}<p class="note">Each completed trial\'s '
        f"<code>{esc(report.metric_names[0])}</code>{first} by trial number; the red line is "
        "the best so far, hollow points on the axis are pruned or failed trials.</p>"
    )


def _importances(report: StudyReport) -> str:
    chart = importance_bars(report)
    if not chart:
        return f'<h2>Parameter importances</h2><p class="empty">{esc(report.note or "none")}</p>'
    return (
        f'<h2>Parameter importances</h2>{chart}<p class="note">Each parameter\'s share of '
        f"the variance of <code>{esc(report.metric_names[0])}</code> (PED-ANOVA over the "
        f"newest {MAX_IMPORTANCE_TRIALS:,} completed trials at most).</p>"
    )


def _trials(report: StudyReport) -> str:
    rows = newest(report)
    every = param_names(report, rows)
    names = every[:MAX_PARAM_COLUMNS]
    heads = (
        "trial",
        "state",
        *(esc(n) for n in report.metric_names),
        *(f"<code>{esc(n)}</code>" for n in names),
        "duration",
        "run",
    )
    lines = []
    for row in rows:
        params = "".join(f"<td>{esc(shown(row.params.get(n)))}</td>" for n in names)
        lines.append(
            f'<tr><td>{row.number:,}</td><td class="state-{esc(row.state)}">'
            f"{esc(_state(row))}</td>{_values(row, len(report.metric_names))}{params}"
            f"<td>{seconds(row.seconds)}</td>"
            f"<td><code>{esc(row.run_id or '—')}</code></td></tr>"
        )
    more = (
        f'<p class="note">{len(every) - len(names):,} more parameters are not shown as columns.</p>'
        if len(every) > len(names)
        else ""
    )
    return (
        f"<h2>Trials, newest first</h2>{table(heads, lines, 'trials')}"
        + left_out(len(report.trials) - len(rows), "trial")
        + more
    )


def _state(row: TrialRow) -> str:
    if row.state == "PRUNED" and row.last_step is not None:
        return f"PRUNED at step {row.last_step:,}"
    return row.state


def _values(row: TrialRow, count: int) -> str:
    values = row.values or (None,) * count
    return "".join(f"<td>{esc(figure(v))}</td>" for v in values)


def _params(row: TrialRow) -> str:
    return ", ".join(
        f"<code>{esc(name)}</code> = {esc(shown(value))}" for name, value in row.params.items()
    )


# -- the notebook view ------------------------------------------------------------------------


def result_html(result: TuningResult) -> str:
    """The study, its trials by state and its best trial(s), with inline styles only."""
    study = result.study
    names = StudyReport(study, [], [], {}).metric_names
    fields = {
        "objectives": blocks.text(
            ", ".join(f"{n} ({d})" for n, d in zip(names, study.directions, strict=False))
        ),
        "trials": blocks.text(counts(result.states)),
        "study run": blocks.text(result.run_id or study.run_id),
    }
    if result.new_trials:
        fields["new trials"] = blocks.text(result.new_trials)
    if result.registered is not None:
        version: Any = result.registered
        fields["registered"] = blocks.text(f"{version.name} version {version.version}")
    rows = [
        "<tr>"
        + blocks.cell(blocks.text(best.number))
        + "".join(blocks.cell(blocks.text(figure(v))) for v in best.values)
        + blocks.cell(", ".join(f"{esc(k)} = {esc(shown(v))}" for k, v in best.params.items()))
        + blocks.cell(blocks.text(best.run_id))
        + "</tr>"
        for best in result.best_trials[: blocks.MAX_ROWS]
    ]
    title = "Pareto front" if study.multi_objective else "Best trial"
    best = (
        blocks.table(["trial", *names, "params", "run"], rows, title)
        + blocks.left_out(len(result.best_trials), "trials")
        if rows
        else f"<p>{esc('No trial has completed yet.')}</p>"
    )
    return blocks.block(f"Study {study.name}", blocks.fields_table(fields), best)


__all__ = [
    "MAX_TRIAL_ROWS",
    "counts",
    "newest",
    "param_names",
    "report_html",
    "result_html",
    "seconds",
    "setting",
    "shown",
]
