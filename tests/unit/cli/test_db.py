"""``gnomon db upgrade``: migrates the store named by the settings, reporting revisions."""

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
    assert first.stdout.strip().endswith(f"revision none -> {head()}")
    assert str(gnomon_home / "gnomon.db") in first.stdout
    second = runner.invoke(app, ["db", "upgrade"])
    assert second.stdout.strip().endswith(f"revision {head()} -> {head()}")


def test_upgrade_an_unsupported_uri_is_one_line(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_URI", "mysql://db.example/gnomon")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unsupported database 'mysql'")
