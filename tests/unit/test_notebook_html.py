"""Notebook views (``_repr_html_``) of runs, pages, comparisons, models and versions:
escaped, bounded, self-contained."""

from __future__ import annotations

import math
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import gnomon
from gnomon.errors import InvalidInput, NotFound
from gnomon.registry.entities import ModelVersion, RegisteredModel, VersionStatus
from gnomon.tracking.comparison import RunComparison
from gnomon.tracking.entities import Run, RunStatus
from gnomon.tracking.frame import RunPage
from gnomon.tracking.html import MAX_ROWS, MAX_RUN_COLUMNS

EVIL = "<script>alert(1)</script>"
# Everything a view may contain: no script, style sheet, link, image or iframe.
ALLOWED_TAGS = {"div", "table", "caption", "thead", "tbody", "tr", "th", "td", "span", "code", "p"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def checked(html: str) -> str:
    """The text a reader sees, once ``html`` is shown to hold only harmless tags."""
    parser = _Tags()
    parser.feed(html)
    assert parser.tags <= ALLOWED_TAGS, parser.tags - ALLOWED_TAGS
    assert "http" not in html  # nothing loaded from elsewhere
    return " ".join(parser.text)


def _run(run_id: str = "a" * 32, **fields: object) -> Run:
    values: dict[str, object] = {
        "id": run_id,
        "experiment_id": "1",
        "name": "rf",
        "status": RunStatus.FINISHED,
        "start_time": 1_700_000_000_000,
        "end_time": 1_700_000_090_500,
        "user": "ada",
        "artifact_uri": "/tmp/artifacts",
    }
    values.update(fields)
    return Run(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.get_client()


# -- runs ----------------------------------------------------------------------------------


def test_a_run_shows_its_fields_and_data_with_user_strings_escaped(client: gnomon.Client) -> None:
    gnomon.set_experiment("html")
    parent = gnomon.start_run(name="parent")
    with gnomon.start_run(name=EVIL, nested=True, tags={"note": EVIL}) as child:
        gnomon.log_params({"model": EVIL, "depth": 8})
        gnomon.log_metric("acc", 0.91)
    gnomon.end_run()
    html = client.get_run(child.id)._repr_html_()
    text = checked(html)
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert EVIL in text  # the reader sees the name as it was written
    for expected in (child.id, parent.id, "FINISHED", "depth", "8", "acc", "0.91", "note"):
        assert expected in text
    assert "Run " + EVIL in text and "parent run" in text


def test_an_active_run_shows_what_was_logged_so_far(client: gnomon.Client) -> None:
    with gnomon.start_run(name="live") as run:
        gnomon.log_metric("loss", 0.25)
        text = checked(run._repr_html_())
        assert "RUNNING" in text and "loss" in text and "0.25" in text


def test_a_run_view_is_bounded() -> None:
    params = {f"p{i:03d}": "v" for i in range(MAX_ROWS + 20)}
    run = _run(params=params, tags={"long": "x" * 5000}, metrics={"nan": math.nan})
    html = run._repr_html_()
    text = checked(html)
    assert "p000" in text and f"p{MAX_ROWS - 1:03d}" in text and f"p{MAX_ROWS:03d}" not in text
    assert f"20 more keys not shown (of {MAX_ROWS + 20})" in text
    assert "x" * 300 not in html and "…" in text
    assert "nan" in text and "1m30s" in text  # duration of 90.5 s


def test_a_page_of_runs_is_a_bounded_table() -> None:
    runs = [
        _run(f"{i:032d}", name=f"run-{i}", metrics={f"m{k}": k for k in range(9)})
        for i in range(MAX_ROWS + 5)
    ]
    runs[0] = _run("0" * 32, name=EVIL, status=RunStatus.FAILED)
    html = RunPage(runs, "next")._repr_html_()
    text = checked(html)
    assert EVIL not in html and EVIL in text
    assert f"run-{MAX_ROWS - 1}" in text and f"run-{MAX_ROWS}" not in text
    assert "5 more runs not shown" in text and "3 more metric columns not shown" in text
    assert "next page" in text
    assert "No runs" in checked(RunPage([])._repr_html_())


def test_search_results_show_in_a_notebook(client: gnomon.Client) -> None:
    gnomon.set_experiment("shown")
    with gnomon.start_run(name="one"):
        gnomon.log_metric("acc", 0.5)
    text = checked(gnomon.search_runs()._repr_html_())
    assert "one" in text and "acc" in text and "0.5" in text


# -- comparisons ---------------------------------------------------------------------------


def _logged(name: str, params: dict[str, object], metrics: dict[str, float]) -> str:
    with gnomon.start_run(name=name) as run:
        gnomon.log_params(params)
        gnomon.log_metrics(metrics)
    return run.id


def test_compare_runs_marks_differences_and_the_best_values(client: gnomon.Client) -> None:
    a = _logged("a", {"model": "rf", "seed": 1}, {"loss": 0.3, "acc": 0.8})
    b = _logged("b", {"model": "gb", "seed": 1}, {"loss": 0.2, "acc": 0.9, "f1": 0.7})
    comparison = client.compare_runs([a, b, a])  # a repeat adds nothing
    assert [run.id for run in comparison.runs] == [a, b]
    rows = {(row.section, row.key): row for row in comparison.rows}
    assert rows["params", "model"].differs and not rows["params", "seed"].differs
    assert rows["metrics", "loss"].best == [b]  # lower is better for a loss
    assert rows["metrics", "acc"].best == [b]
    assert {row.key for row in comparison.differing} == {"model", "loss", "acc", "f1"}

    frame = comparison.to_pandas()
    assert list(frame.columns) == [a, b]
    assert frame.loc[("params", "model"), b] == "gb"
    assert frame.loc[("metrics", "loss"), a] == 0.3
    assert pd.isna(frame.loc[("metrics", "f1"), a])

    html = comparison._repr_html_()
    text = checked(html)
    assert "0.2 ★" in text and "0.3 ★" not in text
    assert "4 of 5 keys differ" in text
    assert html.count("background:rgba(255,193,7") == 4  # the differing rows, highlighted


def test_compare_runs_refuses_too_few_runs_and_unknown_ones(client: gnomon.Client) -> None:
    a = _logged("a", {}, {"acc": 0.5})
    with pytest.raises(InvalidInput, match="at least two different run ids"):
        client.compare_runs([a, a])
    with pytest.raises(InvalidInput, match="list of run ids"):
        client.compare_runs(a)
    with pytest.raises(NotFound):
        client.compare_runs([a, "f" * 32])


def test_a_comparison_view_escapes_and_bounds() -> None:
    runs = [
        _run(f"{i:032d}", name=EVIL if i == 0 else f"r{i}", params={EVIL: str(i)})
        for i in range(MAX_RUN_COLUMNS + 2)
    ]
    html = RunComparison.of(runs)._repr_html_()
    text = checked(html)
    assert EVIL not in html and EVIL in text
    assert f"r{MAX_RUN_COLUMNS - 1} " in text and f"r{MAX_RUN_COLUMNS} " not in text
    assert "2 more runs not shown" in text


# -- registry ------------------------------------------------------------------------------


def test_a_registered_model_shows_its_aliases_and_tags() -> None:
    model = RegisteredModel(
        id="m1",
        workspace_id="w",
        name=EVIL,
        description="churn <b>model</b>",
        created_time=1_700_000_000_000,
        updated_time=1_700_000_000_000,
        tags={"team": EVIL},
        latest_version=3,
        aliases={"production": 2, "staging": 3},
    )
    html = model._repr_html_()
    text = checked(html)
    assert EVIL not in html and "<b>" not in html
    for expected in ("production", "staging", "team", "churn <b>model</b>", "3"):
        assert expected in text


def test_a_model_version_shows_flavor_source_run_and_files() -> None:
    version = ModelVersion(
        model_name="churn",
        version=2,
        source=f"runs:/{'a' * 32}/{EVIL}",
        run_id="a" * 32,
        storage_uri="/tmp/registry/churn/2",
        status=VersionStatus.READY,
        flavor="sklearn",
        created_time=1_700_000_000_000,
        created_by="ada",
        updated_time=1_700_000_000_000,
        tags={"stage": "candidate"},
        aliases=["production"],
        files={"model.pkl": "0" * 64, "gnomon-model.yaml": "1" * 64},
        spec_sha256="f" * 64,
    )
    html = version._repr_html_()
    text = checked(html)
    assert EVIL not in html
    for expected in ("churn", "sklearn", "READY", "production", "a" * 32, "2 files", "stage"):
        assert expected in text
    unrecorded = ModelVersion(**{**_fields(version), "spec_sha256": None})
    assert "cannot be loaded" in checked(unrecorded._repr_html_())


def _fields(version: ModelVersion) -> dict[str, object]:
    return {name: getattr(version, name) for name in version.__dataclass_fields__}
