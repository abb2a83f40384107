"""Notebooks: ``set_tracking_uri`` and ``set_workspace`` repoint the fluent API."""

from __future__ import annotations

from pathlib import Path

import pytest

import gnomon
from gnomon.errors import Conflict, NotFound


def test_set_tracking_uri_switches_stores(gnomon_home: Path, tmp_path: Path) -> None:
    first, second = (f"sqlite:///{tmp_path / name}.db" for name in ("first", "second"))
    gnomon.set_tracking_uri(first)
    gnomon.set_experiment("nb")
    run = gnomon.start_run(name="in-first")
    gnomon.log_metric("m", 1.0)
    gnomon.end_run()
    gnomon.set_tracking_uri(second)
    assert gnomon.get_client().settings.uri == second
    gnomon.set_experiment("nb")
    gnomon.log_param("p", "x")  # buffered, then written by the switch below
    other = gnomon.active_run()
    assert other is not None
    gnomon.end_run()
    gnomon.set_tracking_uri(first)
    assert [r.id for r in gnomon.search_runs("nb")] == [run.id]
    assert gnomon.get_client().get_run(run.id).metrics == {"m": 1.0}
    assert gnomon.Client(second).get_run(other.id).params == {"p": "x"}


def test_switch_writes_what_the_old_client_buffered(gnomon_home: Path, tmp_path: Path) -> None:
    gnomon.set_tracking_uri(f"sqlite:///{tmp_path / 'a.db'}")
    old = gnomon.get_client()
    exp = old.create_experiment("direct")
    run = old.create_run(exp.id)
    old.buffer.add(run.id, {"lr": "0.1"}, {})  # queued in the old client's buffer
    gnomon.set_tracking_uri(f"sqlite:///{tmp_path / 'b.db'}")
    assert old.get_run(run.id).params == {"lr": "0.1"}


def test_switching_is_refused_during_a_run(gnomon_home: Path, tmp_path: Path) -> None:
    with gnomon.start_run() as run:
        with pytest.raises(Conflict, match="end it before changing the uri"):
            gnomon.set_tracking_uri(f"sqlite:///{tmp_path / 'x.db'}")
        with pytest.raises(Conflict, match="workspace"):
            gnomon.set_workspace("team-a")
        assert gnomon.active_run() is run
    assert gnomon.get_client().settings.uri is None


def test_set_workspace_refuses_an_unknown_one_and_keeps_the_client(gnomon_home: Path) -> None:
    client = gnomon.get_client()
    with pytest.raises(NotFound):
        gnomon.set_workspace("no-such-workspace")
    assert gnomon.get_client() is client
    gnomon.set_workspace("default")
    assert gnomon.get_client() is not client
    assert gnomon.get_client().settings.workspace == "default"
