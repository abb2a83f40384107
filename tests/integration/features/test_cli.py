"""``gnomon features`` as a user types it, on repos of definition files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.fixtures.cli import fails, invoke, ok, ok_json

ENTITIES = """
from gnomon.features.definitions import Entity

driver = Entity("driver", join_keys=["driver_id"])
"""

VIEWS = """
from datetime import timedelta

from entities import driver
from gnomon.features.definitions import FeatureService, FeatureView, Field, FileSource

stats = FeatureView(
    name="stats",
    entities=[driver],
    source=FileSource("data/stats.parquet"),
    schema=[Field("rate", "{dtype}"), Field("trips", "int64")],
    ttl=timedelta(days=1),
)
model = FeatureService("model", ["stats:rate", "stats:trips"])
"""


def _repo(folder: Path, dtype: str = "float64") -> Path:
    """A folder repo: entities.py, and views.py importing from it; data/ beside them."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "driver_id": pa.array([1, 2], pa.int64()),
            "rate": pa.array([0.5, 0.7]),
            "trips": pa.array([3, 4], pa.int64()),
            "event_timestamp": pa.array([1, 2], pa.timestamp("s")),
        }
    )
    pq.write_table(table, folder / "data" / "stats.parquet")
    (folder / "entities.py").write_text(ENTITIES)
    (folder / "views.py").write_text(VIEWS.replace("{dtype}", dtype))
    return folder


def test_apply_list_show_diff(gnomon_home: Path, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    out = ok("features", "apply", str(repo))
    assert "applied: 3 created, 0 updated, 0 unchanged" in out
    again = ok_json("features", "apply", str(repo))
    assert again["applied"] and {c["action"] for c in again["changes"]} == {"unchanged"}
    listed = ok_json("features", "list")
    assert [(d["kind"], d["name"], d["version"]) for d in listed] == [
        ("entity", "driver", 1),
        ("service", "model", 1),
        ("view", "stats", 1),
    ]
    table = ok("features", "list", "--kind", "view")
    assert "stats" in table and "driver " not in table
    shown = ok_json("features", "show", "stats")
    assert shown[0]["kind"] == "view" and shown[0]["versions"][0]["version"] == 1
    # the relative source path was taken from the repo's folder
    assert shown[0]["spec"]["source"]["path"] == str((repo / "data" / "stats.parquet").resolve())
    text = ok("features", "show", "stats")
    assert "feature view stats" in text and '"ttl_seconds": 86400.0' in text

    _repo(repo, dtype="float32")
    diff = ok("features", "diff", str(repo))
    assert "feature rate: float64 -> float32" in diff
    assert "breaks: feature 'stats:rate' changes dtype from float64 to float32" in diff
    assert "apply would make: 0 created, 1 updated, 2 unchanged" in diff
    refused = fails("features", "apply", str(repo))
    assert "refused: 1 breaking change (--force or force=True applies them anyway)" in refused
    assert "used by feature services 'model'" in refused
    forced = ok("features", "apply", str(repo), "--force")
    assert "warning: applied with --force" in forced and "1 updated" in forced
    shown = ok_json("features", "show", "stats", "--kind", "view")
    assert [v["version"] for v in shown[0]["versions"]] == [2, 1]


def test_a_single_file(gnomon_home: Path, tmp_path: Path) -> None:
    data = _repo(tmp_path / "repo") / "data" / "stats.parquet"
    views = VIEWS.replace("{dtype}", "float64").replace("from entities import driver\n", "")
    single = tmp_path / "all.py"
    single.write_text(ENTITIES + views.replace("data/stats.parquet", str(data)))
    assert "3 created" in ok("features", "apply", str(single))
    assert "3 unchanged" in ok("features", "diff", str(single))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.py": "x = 1"}, "defines no Entity, FeatureView or FeatureService"),
        ({"a.py": "raise RuntimeError('boom')"}, "running a.py raised RuntimeError: boom"),
        ({"a.py": "def broken(:"}, "running a.py raised SyntaxError"),
        (
            {"a.py": "from gnomon.features.definitions import Entity\ne = Entity('bad name', 'k')"},
            "a.py: entity name must be",
        ),
        (
            {
                "a.py": "from gnomon.features.definitions import Entity\ne = Entity('d', 'a')",
                "b.py": "from gnomon.features.definitions import Entity\ne = Entity('d', 'b')",
            },
            "entity 'd' is defined twice, differently: in a.py (e) and in b.py (e)",
        ),
        (
            {
                "a.py": "from gnomon.features.definitions import *\n"
                "s = FeatureService('m', ['nope:x'])"
            },
            "feature service 'm': feature view 'nope' not found",
        ),
    ],
)
def test_bad_repos_are_one_clear_line(
    gnomon_home: Path, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert message in fails("features", "apply", str(tmp_path))
    assert ok_json("features", "list") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("features", "apply", "nowhere.py"), "no file or folder 'nowhere.py'"),
        (("features", "show", "nothing"), "no feature definition 'nothing'"),
        (("features", "show", "stats", "--kind", "table"), "kind must be one of"),
        (("features", "list", "--kind", "x"), "kind must be one of"),
    ],
)
def test_bad_input_is_one_clear_line(
    gnomon_home: Path, args: tuple[str, ...], message: str
) -> None:
    assert message in fails(*args)


def test_a_server_out_of_reach_is_one_clear_line(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_URI", "http://127.0.0.1:9")  # through a server: tests/…/test_remote
    assert "cannot reach gnomon server http://127.0.0.1:9" in fails("features", "list")
    assert invoke("features", "--help").exit_code == 0
