"""``gnomon experiments`` and ``gnomon runs``: every command, as a table and as JSON."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import gnomon
from gnomon._types import now_ms
from gnomon.cli.app import app
from gnomon.tracking.entities import Metric, Run
from tests.fixtures.cli import fails, ok, ok_json

_clock = itertools.count(now_ms() - 60_000, 1000)


@dataclass
class Seeded:
    client: gnomon.Client
    rf: Run
    lr: Run
    other: Run


@pytest.fixture
def client(gnomon_home: Path, monkeypatch: pytest.MonkeyPatch) -> gnomon.Client:
    # Tests log system tags themselves; skipping the git and package capture keeps them fast.
    monkeypatch.setenv("GNOMON_CAPTURE_ENVIRONMENT", "false")
    return gnomon.Client()


def make_run(
    client: gnomon.Client,
    experiment: str,
    name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, str] | None = None,
) -> Run:
    exp = client.tracking.get_or_create_experiment(client.scope, experiment)
    # Distinct start times: runs list orders newest first, and two runs can share a millisecond.
    started = next(_clock)
    run = client.create_run(exp.id, name, start_time=started)
    points = [Metric(key, value) for key, value in metrics.items()]
    client.log_batch(run.id, metrics=points, params=params, tags=tags)
    client.end_run(run.id)
    return client.get_run(run.id)


@pytest.fixture
def seeded(client: gnomon.Client) -> Seeded:
    rf = make_run(
        client,
        "churn",
        "rf",
        {"model": "rf", "seed": 1},
        {"acc": 0.91, "f1": 0.80, "loss": 0.30},
        {"team": "growth", "gnomon.host": "box-1"},
    )
    lr = make_run(
        client, "churn", "lr", {"model": "lr", "seed": 1}, {"acc": 0.85, "f1": 0.88, "loss": 0.2}
    )
    other = make_run(client, "fraud", "gb", {"model": "gb"}, {"acc": 0.99, "f1": 0.97})
    return Seeded(client, rf, lr, other)


# -- experiments -----------------------------------------------------------------------------


def test_experiments_create_and_list(client: gnomon.Client) -> None:
    assert "created experiment 'churn'" in ok("experiments", "create", "churn")
    ok("experiments", "create", "fraud")
    listed = ok_json("experiments", "list")
    assert [e["name"] for e in listed] == ["churn", "fraud"]
    assert listed[0]["id"] == client.get_experiment("churn").id
    assert listed[0]["lifecycle"] == "active"
    table = ok("experiments", "list")
    assert "churn" in table and "fraud" in table and listed[0]["id"] in table


def test_experiments_create_twice_fails(client: gnomon.Client) -> None:
    ok("experiments", "create", "churn")
    assert "'churn' already exists" in fails("experiments", "create", "churn")


def test_experiments_rename(client: gnomon.Client) -> None:
    ok("experiments", "create", "churn")
    assert "renamed experiment 'churn' to 'churn-v2'" in ok(
        "experiments", "rename", "churn", "churn-v2"
    )
    assert [e["name"] for e in ok_json("experiments", "list")] == ["churn-v2"]


def test_experiments_delete_and_restore_by_name_or_id(client: gnomon.Client) -> None:
    exp = client.create_experiment("churn")
    ok("experiments", "delete", "churn")
    assert ok_json("experiments", "list") == []
    listed = ok_json("experiments", "list", "--all")
    assert [(e["name"], e["lifecycle"]) for e in listed] == [("churn", "deleted")]
    assert "deleted" in ok("experiments", "list", "--all")
    assert "restored experiment 'churn'" in ok("experiments", "restore", exp.id)
    assert [e["lifecycle"] for e in ok_json("experiments", "list")] == ["active"]


def test_experiments_unknown_names_it(client: gnomon.Client) -> None:
    assert fails("experiments", "delete", "ghost") == "error: experiment 'ghost' not found"


# -- runs list and search --------------------------------------------------------------------


def test_runs_list_json(seeded: Seeded) -> None:
    runs = ok_json("runs", "list", "--experiment", "churn")
    assert [r["name"] for r in runs] == ["lr", "rf"]  # newest first
    rf = runs[1]
    assert rf["id"] == seeded.rf.id
    assert rf["metrics"] == {"acc": 0.91, "f1": 0.80, "loss": 0.30}
    assert rf["params"] == {"model": "rf", "seed": "1"}
    assert rf["status"] == "FINISHED"
    assert rf["duration_ms"] == seeded.rf.end_time - seeded.rf.start_time  # type: ignore[operator]


def test_runs_list_table_and_max(seeded: Seeded) -> None:
    table = ok("runs", "list", "-e", "churn")
    assert seeded.rf.id in table and seeded.lr.id in table and seeded.other.id not in table
    assert "FINISHED" in table and "0.91" in table
    limited = ok("runs", "list", "-e", "churn", "--max", "1")
    assert seeded.lr.id in limited and seeded.rf.id not in limited
    assert "pass --max to see more" in limited
    assert len(ok_json("runs", "list", "-e", "churn", "--max", "1")) == 1


def test_runs_search_filter_order_and_experiments(seeded: Seeded) -> None:
    found = ok_json(
        "runs",
        "search",
        "--experiment",
        "churn",
        "--experiment",
        "fraud",
        "--filter",
        "metrics.acc > 0.86",
        "--order-by",
        "metrics.f1 DESC",
    )
    assert [r["name"] for r in found] == ["gb", "rf"]
    best = ok_json("runs", "search", "-e", "churn", "--order-by", "metrics.f1 DESC", "--max", "1")
    assert [r["id"] for r in best] == [seeded.lr.id]
    table = ok("runs", "search", "-e", "churn", "-f", "params.model = 'rf'")
    assert seeded.rf.id in table and seeded.lr.id not in table


def test_runs_search_bad_filter_is_one_line(seeded: Seeded) -> None:
    line = fails("runs", "search", "-e", "churn", "--filter", "metrics.acc >")
    assert "invalid filter 'metrics.acc >'" in line


def test_runs_search_filter_typo_names_the_word_and_suggests(seeded: Seeded) -> None:
    line = fails("runs", "search", "-e", "churn", "--filter", "metircs.acc > 0.9")
    assert "unknown field 'metircs'; did you mean 'metrics'?" in line
    assert "at position 0" in line


def test_an_unknown_experiment_suggests_a_close_name(seeded: Seeded) -> None:
    line = fails("runs", "list", "-e", "chrun")
    assert line == "error: experiment 'chrun' not found; did you mean 'churn'?"


# -- runs show -------------------------------------------------------------------------------


def test_runs_show_json(seeded: Seeded) -> None:
    shown = ok_json("runs", "show", seeded.rf.id)
    assert shown["id"] == seeded.rf.id and shown["name"] == "rf"
    assert shown["params"] == {"model": "rf", "seed": "1"}
    assert shown["metrics"]["f1"] == 0.80
    assert shown["tags"] == {"team": "growth", "gnomon.host": "box-1"}


def test_runs_show_table_puts_system_tags_apart(seeded: Seeded) -> None:
    text = ok("runs", "show", seeded.rf.id)
    for expected in (seeded.rf.id, "churn", "FINISHED", "seed", "0.91", "team", "growth"):
        assert expected in text
    tags, system = text.index("Tags"), text.index("System tags")
    assert tags < text.index("team") < system < text.index("gnomon.host")


def test_runs_show_non_finite_metrics_are_valid_json(client: gnomon.Client) -> None:
    run = make_run(client, "e", "r", {}, {"nan": math.nan, "up": math.inf, "down": -math.inf})
    text = ok("runs", "show", run.id, "--output", "json")
    assert "NaN" in text  # as a string: strict parsers reject the bare constant

    def reject(constant: str) -> None:
        raise AssertionError(constant)

    metrics = json.loads(text, parse_constant=reject)["metrics"]
    assert metrics == {"nan": "NaN", "up": "Infinity", "down": "-Infinity"}


def test_runs_show_unknown(client: gnomon.Client) -> None:
    assert fails("runs", "show", "nope") == "error: run 'nope' not found"


# -- runs compare ----------------------------------------------------------------------------


def test_runs_compare_json_flags_differences_and_best(seeded: Seeded) -> None:
    rf, lr = seeded.rf.id, seeded.lr.id
    compared = ok_json("runs", "compare", rf, lr)
    assert compared["runs"] == [{"id": rf, "name": "rf"}, {"id": lr, "name": "lr"}]
    rows = {(row["section"], row["key"]): row for row in compared["rows"]}
    assert rows["params", "model"] == {
        "section": "params",
        "key": "model",
        "values": {rf: "rf", lr: "lr"},
        "differs": True,
        "best": [],
    }
    assert rows["params", "seed"]["differs"] is False
    assert rows["metrics", "acc"]["best"] == [rf]
    assert rows["metrics", "f1"]["best"] == [lr]
    assert rows["metrics", "loss"]["best"] == [lr]  # lower is better for a loss
    differing = {key for (_, key), row in rows.items() if row["differs"]}
    assert differing == {"model", "acc", "f1", "loss"}


def test_runs_compare_missing_values(seeded: Seeded) -> None:
    compared = ok_json("runs", "compare", seeded.rf.id, seeded.other.id)
    rows = {row["key"]: row for row in compared["rows"]}
    assert rows["loss"]["values"] == {seeded.rf.id: 0.30, seeded.other.id: None}
    assert rows["loss"]["differs"] is True
    assert rows["seed"]["values"][seeded.other.id] is None


def test_runs_compare_table_marks_best(seeded: Seeded) -> None:
    text = ok("runs", "compare", seeded.rf.id, seeded.lr.id)
    assert "Params" in text and "Metrics" in text
    f1_line = next(line for line in text.splitlines() if line.strip().startswith("f1"))
    assert f1_line.split() == ["f1", "0.8", "0.88", "★"]
    seed_line = next(line for line in text.splitlines() if line.strip().startswith("seed"))
    assert "★" not in seed_line


def test_runs_compare_highlights_differing_rows(seeded: Seeded) -> None:
    # FORCE_COLOR makes Rich emit colour into CliRunner's pipe; bold yellow is ESC[1;33m.
    colour = CliRunner(env={"COLUMNS": "250", "FORCE_COLOR": "1"})
    result = colour.invoke(app, ["runs", "compare", seeded.rf.id, seeded.lr.id])
    lines = result.stdout.splitlines()
    model = next(line for line in lines if "model" in line)
    seed = next(line for line in lines if "seed" in line)
    assert "\x1b[1;33m" in model
    assert "\x1b[1;33m" not in seed


def test_runs_compare_needs_two_runs(seeded: Seeded) -> None:
    line = fails("runs", "compare", seeded.rf.id, seeded.rf.id)
    assert "at least two different run ids" in line
    assert "run 'ghost' not found" in fails("runs", "compare", seeded.rf.id, "ghost")


# -- runs delete and restore -----------------------------------------------------------------


def test_runs_delete_and_restore(seeded: Seeded) -> None:
    assert f"deleted run 'rf' ({seeded.rf.id})" in ok("runs", "delete", seeded.rf.id)
    assert [r["id"] for r in ok_json("runs", "list", "-e", "churn")] == [seeded.lr.id]
    assert ok_json("runs", "show", seeded.rf.id)["lifecycle"] == "deleted"
    assert "restored run 'rf'" in ok("runs", "restore", seeded.rf.id)
    assert len(ok_json("runs", "list", "-e", "churn")) == 2


# -- markup in logged text -----------------------------------------------------------------

# Rich would read these as a hidden link, invisible text and an error.
LINK = "[link=https://evil.example]x[/link]"
HIDDEN = "[black on black]hidden[/]"
BROKEN = "[/oops]"


def test_markup_in_names_params_and_tags_prints_as_it_is(client: gnomon.Client) -> None:
    first = make_run(client, "marked", BROKEN, {"p": LINK}, {"acc": 0.5}, {"note": HIDDEN})
    second = make_run(client, "marked", LINK, {"p": BROKEN}, {"acc": 0.6})
    listed = ok("runs", "list", "--experiment", "marked")
    assert BROKEN in listed and LINK in listed
    shown = ok("runs", "show", first.id)
    assert f"Run {BROKEN}" in shown and LINK in shown and HIDDEN in shown
    compared = ok("runs", "compare", first.id, second.id)
    # Each name heads a column of both tables, and each is the other's param.
    assert compared.count(BROKEN) == 3 and compared.count(LINK) == 3
