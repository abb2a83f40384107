"""``gnomon db upgrade``: migrates the store named by the settings, reporting revisions, and
moves prediction files written under workspace names to their ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gnomon.cli.app import app
from gnomon.store.migrate import head

runner = CliRunner()


def test_upgrade_a_new_store_then_an_up_to_date_one(gnomon_home: Path) -> None:
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0].endswith(f"revision none -> {head()}")
    assert str(gnomon_home / "gnomon.db") in first.stdout
    second = runner.invoke(app, ["db", "upgrade"])
    assert second.stdout.splitlines()[0].endswith(f"revision {head()} -> {head()}")


def test_upgrade_an_unsupported_uri_is_one_line(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_URI", "mysql://db.example/gnomon")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unsupported database 'mysql'")


def test_upgrade_moves_prediction_files_of_every_workspace(gnomon_home: Path) -> None:
    from gnomon.config import Settings
    from gnomon.predictions.legacy import legacy_store
    from gnomon.predictions.storage import predictions_store

    root = Settings().artifact_root
    old = legacy_store(root, "default")
    key = "outcomes/deployment=web/date=2026-01-01/hour=00/part-1.parquet"
    old.put_bytes(b"acknowledged", key)
    old.put_bytes(b"answered", "predictions/deployment=web/date=2026-01-01/hour=00/part-2.parquet")

    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "2 file(s) moved to the workspace-id layout" in first.stdout
    new = predictions_store(root, "default")
    assert new.get_bytes(key) == b"acknowledged"
    assert new.list("records/deployment=web/date=2026-01-01/hour=00")[0].path.endswith(
        "part-2.parquet"
    )
    again = runner.invoke(app, ["db", "upgrade"])
    assert "0 file(s) moved" in again.stdout
