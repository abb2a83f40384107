"""The study report page and the notebook view: well-formed, self-contained, escaped,
bounded, and charting what the trials hold. Reports are built by hand: what a client may
name (the study, parameters, metrics, settings) is hostile here."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from gnomon.monitoring.report_html import POLICY
from gnomon.tuning.analysis import StudyReport, TrialRow
from gnomon.tuning.entities import Study
from gnomon.tuning.html import MAX_TRIAL_ROWS, report_html, result_html
from gnomon.tuning.tune import BestTrial, TuningResult

HOSTILE_STUDY = "<script>alert('study')</script>"
HOSTILE_PARAM = "<img src=x onerror=alert(1)>"
HOSTILE_VALUE = "</style><script>"
HOSTILE_METRIC = '"><svg onload=alert(2)>'
VOID = {"meta", "br", "hr", "img", "input", "link", "circle", "path", "rect"}


class Page(HTMLParser):
    """The page's tags (checked to nest), its text, its charts and its tables' rows."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.charts: dict[str, dict[str, Any]] = {}  # kind: its study and its element count
        self.rows: dict[str, list[list[str]]] = {}  # table class: cell texts per row
        self._chart: str | None = None
        self._table: str | None = None
        self.feed(html)
        self.close()
        assert self.open == [], f"unclosed tags {self.open}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        self.attributes += found.items()
        if tag == "svg":
            self._chart = found["class"].split()[1]
            self.charts[self._chart] = {"study": found.get("data-study", found.get("data-column"))}
        elif self._chart is not None:
            counted = self.charts[self._chart]
            counted[tag] = counted.get(tag, 0) + 1
            if tag == "circle":
                kind = found.get("class", "")
                counted[kind] = counted.get(kind, 0) + 1
        if tag == "table":
            self._table = found.get("class", "")
            self.rows.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self.rows[self._table].append([])
        elif tag == "td" and self._table is not None:
            self.rows[self._table][-1].append("")
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        if tag == "svg":
            self._chart = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._table is not None and self.rows[self._table] and self.rows[self._table][-1]:
            self.rows[self._table][-1][-1] += data

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def _study(directions: tuple[str, ...] = ("minimize",)) -> Study:
    names = [HOSTILE_METRIC] if len(directions) == 1 else ["loss", "latency"]
    settings = {
        "sampler": "tpe",
        "pruner": HOSTILE_VALUE,
        "metric_names": names,
        "objective": "train:<objective>",
        "space": {HOSTILE_PARAM: "{}", "depth": "{}"},
    }
    return Study(
        "s1", HOSTILE_STUDY, directions, settings, "e1", "run-of-study", 3, 1_700_000_000_000
    )


def _trials(count: int) -> list[TrialRow]:
    """Every fifth pruned at step 3, every seventh failed, the rest completed (values falling)."""
    rows = []
    for n in range(count):
        state = "PRUNED" if n % 5 == 4 else "FAIL" if n % 7 == 6 else "COMPLETE"
        values = (100.0 / (n + 1) + n % 3,) if state == "COMPLETE" else None
        params = {HOSTILE_PARAM: HOSTILE_VALUE if n % 2 else 0.5 + n, "depth": n % 9}
        rows.append(
            TrialRow(n, state, values, params, f"run{n}", 0.25, 3 if state == "PRUNED" else None)
        )
    return rows


def _report(count: int, importances: dict[str, float] | None = None, note: str = "") -> StudyReport:
    trials = _trials(count)
    complete = [t for t in trials if t.state == "COMPLETE"]
    best = [min(complete, key=lambda t: t.values[0] if t.values else 0.0)] if complete else []
    states: dict[str, int] = {}
    for trial in trials:
        states[trial.state] = states.get(trial.state, 0) + 1
    return StudyReport(_study(), trials, best, states, importances or {}, note)


def test_the_report_escapes_what_clients_name_and_stays_self_contained() -> None:
    html = report_html(_report(30, {HOSTILE_PARAM: 0.8, "depth": 0.2}))
    page = Page(html)
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html
    assert not page.tags & {"script", "img", "link", "iframe", "object"}
    assert ("content", POLICY) in page.attributes  # the CSP meta, as the monitor report's
    assert not [v for k, v in page.attributes if k in ("src", "href") or k.startswith("on")]
    assert HOSTILE_STUDY in page.words and HOSTILE_PARAM in page.words
    assert HOSTILE_VALUE in page.words and HOSTILE_METRIC in page.words
    assert page.charts["history"]["study"] == HOSTILE_STUDY
    assert page.charts["importances"]["study"] == HOSTILE_STUDY


def test_the_report_charts_the_history_and_the_importances() -> None:
    report = _report(30, {HOSTILE_PARAM: 0.8, "depth": 0.2})
    page = Page(report_html(report))
    history = page.charts["history"]
    completed = sum(1 for t in report.trials if t.state == "COMPLETE")
    stopped = sum(1 for t in report.trials if t.state in ("PRUNED", "FAIL"))
    assert history["trial"] == completed  # a point per completed trial
    assert history["trial pruned"] + history["trial fail"] == stopped  # hollow, on the axis
    assert history["path"] >= 2  # the axes and the best-so-far step line
    assert page.charts["importances"]["rect"] == 2  # a bar per parameter
    assert "80.0%" in page.words and "20.0%" in page.words
    summary = page.words
    assert "30 trials: 20 complete, 6 pruned, 4 failed" in summary
    assert "PRUNED at step 3" in summary


def test_a_long_study_lists_its_newest_trials_and_counts_the_rest() -> None:
    report = _report(MAX_TRIAL_ROWS + 123)
    page = Page(report_html(report))
    rows = [row for row in page.rows["trials"] if row]  # the heading row has no <td>
    assert len(rows) == MAX_TRIAL_ROWS
    assert rows[0][0] == f"{MAX_TRIAL_ROWS + 122:,}" and rows[-1][0] == "123"  # newest first
    assert "123 more trials left out." in page.words
    assert all(len(row) == len(rows[0]) for row in rows)  # unfinished trials keep the columns
    assert "importances need at least" not in page.words


def test_without_completed_trials_the_page_says_so_and_gives_the_note() -> None:
    note = "importances need at least two completed trials"
    report = StudyReport(_study(), [], [], {}, {}, note)
    page = Page(report_html(report))
    assert "history" not in page.charts and "importances" not in page.charts
    assert "No trial has completed yet." in page.words and note in page.words
    assert "0 trials" in page.words


def test_a_multi_objective_report_shows_the_pareto_front() -> None:
    trials = [
        TrialRow(0, "COMPLETE", (1.0, 5.0), {"depth": 1}, "r0", 1.0, None),
        TrialRow(1, "COMPLETE", (2.0, 2.0), {"depth": 2}, "r1", 75.0, None),
    ]
    report = StudyReport(_study(("minimize", "minimize")), trials, trials, {"COMPLETE": 2})
    page = Page(report_html(report))
    assert "Pareto front (2 trials)" in page.words
    assert "loss (the first objective)" in page.words
    assert [row[:3] for row in page.rows["best"] if row] == [["0", "1", "5"], ["1", "2", "2"]]
    assert "1.2 min" in page.words


def test_the_notebook_view_escapes_and_shows_the_best_trial() -> None:
    study = _study()
    best = BestTrial(7, (0.125,), {HOSTILE_PARAM: HOSTILE_VALUE}, "run7")
    html = result_html(TuningResult(study, [best], {"COMPLETE": 8, "FAIL": 1}, "run-of-study"))
    page = Page(html)
    assert "<script" not in html and "<img" not in html
    assert HOSTILE_STUDY in page.words and f"{HOSTILE_PARAM} = {HOSTILE_VALUE}" in page.words
    assert "9 trials: 8 complete, 1 failed" in page.words
    assert re.search(r"\b7 0\.125\b", page.words)
    empty = Page(result_html(TuningResult(study, [], {"RUNNING": 1}, None)))
    assert "No trial has completed yet." in empty.words
