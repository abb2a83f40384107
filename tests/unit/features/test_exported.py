"""The online store's freshness as Prometheus metrics: per workspace (by name) and live view,
the newest stored value's age and the stale values counted, a bounded number of views,
labels cut short, and a failed read leaving the scrape without samples."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from gnomon._types import Scope
from gnomon.auth.tables import workspaces
from gnomon.features import exported
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource
from gnomon.features.exported import (
    MAX_LABEL_CHARS,
    FreshnessCollector,
    ViewFreshness,
    read_figures,
)
from gnomon.features.online import OnlineView, pack_rows
from gnomon.features.online_sqlite import SqliteOnlineStore
from gnomon.features.service import FeatureRegistry
from gnomon.features.sql import SqlFeatureStore
from gnomon.store.database import Database

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
NOW = 1_700_000_000_000


def _samples(figures: list[ViewFreshness]) -> Samples:
    registry = CollectorRegistry()
    registry.register(FreshnessCollector(lambda: figures))
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }


def _views(tmp_path: Path, sqlite_db: Database) -> tuple[SqliteOnlineStore, OnlineView]:
    """Two views of the default workspace, one with values stored (newest a minute old)."""
    card = Entity("card", ("card",))
    source = FileSource(str(tmp_path / "unused.parquet"))
    stored = FeatureView("stored", (card,), source, (Field("amount"),))
    empty = FeatureView("empty", (card,), source, (Field("amount"),))
    registry = FeatureRegistry(SqlFeatureStore(sqlite_db), None, tmp_path / "cache")
    registry.apply(Scope("default", "me"), [card, stored, empty], read_sources=False)
    store = SqliteOnlineStore(tmp_path / "online.db")
    online = OnlineView.of(stored, ["card"])
    rows = [(("a",), NOW - 60_000, None, [1.0]), (("b",), NOW - 600_000, None, [2.0])]
    store.write("default", online, pack_rows(online, rows))
    return store, online


def test_the_stored_age_and_the_stale_count_of_every_live_view(
    tmp_path: Path, sqlite_db: Database
) -> None:
    store, online = _views(tmp_path, sqlite_db)
    store.count_stale("default", online, 3)
    figures = read_figures(sqlite_db, store, now=NOW)
    assert figures == [
        ViewFreshness("default", "empty", 0, None),  # nothing stored: a count, no age
        ViewFreshness("default", "stored", 3, 60.0),  # the newest value: a minute old
    ]
    samples = _samples(figures)
    labels = (("view", "stored"), ("workspace", "default"))
    assert samples[("gnomon_feature_stale_total", labels)] == 3
    assert samples[("gnomon_feature_age_seconds", labels)] == 60.0
    empty = (("view", "empty"), ("workspace", "default"))
    assert ("gnomon_feature_age_seconds", empty) not in samples


def test_views_read_are_bounded(
    tmp_path: Path, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = _views(tmp_path, sqlite_db)
    monkeypatch.setattr(exported, "MAX_VIEWS", 1)
    assert [f.view for f in read_figures(sqlite_db, store, now=NOW)] == ["empty"]


def test_a_workspace_with_many_views_crowds_no_other_out(
    tmp_path: Path, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = _views(tmp_path, sqlite_db)  # "empty" and "stored" in default
    with sqlite_db.write() as conn:
        conn.execute(insert(workspaces).values(id="ws-z", name="zeta", created_time=NOW))
    card = Entity("card", ("card",))
    source = FileSource(str(tmp_path / "unused.parquet"))
    registry = FeatureRegistry(SqlFeatureStore(sqlite_db), None, tmp_path / "cache")
    registry.apply(
        Scope("ws-z", "me"),
        [card, FeatureView("a_view", (card,), source, (Field("amount"),))],
        read_sources=False,
    )
    monkeypatch.setattr(exported, "MAX_VIEWS_PER_WORKSPACE", 1)
    figures = read_figures(sqlite_db, store, now=NOW)
    assert [(f.workspace, f.view) for f in figures] == [("default", "empty"), ("zeta", "a_view")]


def test_labels_are_cut_short_and_duplicates_left_out() -> None:
    long = "v" * 5000
    figures = [ViewFreshness("ws", long, 1, 2.0), ViewFreshness("ws", long + "x", 5, 9.0)]
    samples = _samples(figures)
    cut = (("view", "v" * MAX_LABEL_CHARS), ("workspace", "ws"))
    assert samples[("gnomon_feature_stale_total", cut)] == 1
    assert len(samples) == 2  # the second, alike in its first characters, is left out


def test_a_read_that_fails_leaves_the_scrape_without_samples(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> list[ViewFreshness]:
        raise RuntimeError("the database is gone")

    registry = CollectorRegistry()
    registry.register(FreshnessCollector(broken))
    with caplog.at_level(logging.ERROR, logger="gnomon.features"):
        text = generate_latest(registry).decode()
    assert "gnomon_feature_stale_total{" not in text and "# TYPE gnomon_feature_stale" in text
    assert "reading the feature freshness failed" in caplog.text
