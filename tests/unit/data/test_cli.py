"""``gnomon data ...`` through the root app, and its quick answer for unchanged data."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnomon.data import quick, scan
from tests.fixtures.cli import fails, ok, ok_json


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (in use, a file changed within the
    last second is hashed again by the next scan: tests/unit/data/test_versions.py)."""
    monkeypatch.setattr(scan, "RACY_NS", 0)


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return root


def test_add_log_show_diff_checkout(gnomon_home: Path, tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", {"a.csv": b"x,y\n1,2\n", "b.bin": b"\x01\x02"})
    assert ok("data", "add", str(source), "--name", "raw").startswith(
        "raw@1: 2 files, 10 B; stored 2 new"
    )
    assert ok("data", "add", str(source), "--name", "raw") == (
        "unchanged: raw@1 already holds this content\n"
    )
    (source / "a.csv").write_bytes(b"x,y\n1,2\n3,4\n")
    added = ok_json("data", "add", str(source), "--name", "raw", "-m", "more rows")
    assert {k: added[k] for k in ("version", "created", "new_objects")} == {
        "version": 2,
        "created": True,
        "new_objects": 1,
    }
    log = ok_json("data", "log", "raw")
    assert [(v["version"], v["message"]) for v in log] == [(2, "more rows"), (1, "")]
    shown = ok("data", "show", "raw@1")
    assert "raw@1 (files)" in shown and "b.bin" in shown
    assert [f["path"] for f in ok_json("data", "show", "raw")["files"]] == ["a.csv", "b.bin"]
    diff = ok("data", "diff", "raw@1", "raw@2")
    assert "changed  a.csv" in diff and "a.csv: rows 1 → 2" in diff
    ok("data", "checkout", "raw@1", str(tmp_path / "out"))
    assert (tmp_path / "out" / "a.csv").read_bytes() == b"x,y\n1,2\n"
    assert [d["name"] for d in ok_json("data", "list")] == ["raw"]


def test_errors_are_one_line(gnomon_home: Path, tmp_path: Path) -> None:
    assert fails("data", "add", str(tmp_path / "nope"), "--name", "raw") == (
        f"error: path '{tmp_path / 'nope'}' does not exist"
    )
    assert fails("data", "show", "raw@2") == "error: dataset 'raw' not found"
    assert "positive integer" in fails("data", "show", "raw@-1")


def test_the_quick_answer_matches_the_full_one(
    gnomon_home: Path, tmp_path: Path, settled: None
) -> None:
    source = make_folder(tmp_path / "src", {"a": b"1", "sub/b": b"2"})
    assert quick.unchanged(source, "raw", None) is None  # no store yet
    full = ok_json("data", "add", str(source), "--name", "raw")
    known = quick.unchanged(source, "raw", None)
    assert known == {**full, "created": False, "new_objects": 0, "new_bytes": 0}
    assert quick.unchanged(source, "raw", "elsewhere") is None
    assert quick.unchanged(source, "other", None) is None
    (source / "a").write_bytes(b"changed")  # a file the cache does not know: no answer
    assert quick.unchanged(source, "raw", None) is None
    ok("data", "add", str(source), "--name", "raw")
    (source / "a").write_bytes(b"1")  # back to version 1's content: no longer the latest
    ok("data", "add", str(tmp_path / "src"), "--name", "probe")  # caches the digests
    assert quick.unchanged(source, "raw", None) is None
    assert ok_json("data", "add", str(source), "--name", "raw")["version"] == 3


def test_the_quick_answer_stays_out_of_other_stores(
    gnomon_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_folder(tmp_path / "src", {"a": b"1"})
    ok("data", "add", str(source), "--name", "raw")
    monkeypatch.setenv("GNOMON_URI", "postgresql://nobody@127.0.0.1:1/none")
    assert quick.unchanged(source, "raw", None) is None
    monkeypatch.setenv("GNOMON_URI", "")
    assert quick.unchanged(source, "raw", None) is None


def test_used_by_and_inputs(gnomon_home: Path, tmp_path: Path) -> None:
    import gnomon

    source = make_folder(tmp_path / "src", {"a.csv": b"x\n1\n"})
    ok("data", "add", str(source), "--name", "raw")
    assert ok("data", "used-by", "raw@1") == "no run has recorded raw@1 as an input\n"
    with gnomon.start_run(name="trainer") as run:
        gnomon.log_input("raw", context="training")
    used = ok_json("data", "used-by", "raw")
    assert [(r["run_id"], r["run_name"], r["context"]) for r in used["runs"]] == [
        (run.id, "trainer", "training")
    ]
    assert "trainer" in ok("data", "used-by", "raw@1")
    assert [i["ref"] for i in ok_json("data", "inputs", run.id)] == ["raw@1"]


def test_the_console_script_answers_unchanged_data_before_typer(
    gnomon_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None
) -> None:
    source = make_folder(tmp_path / "src", {"a": b"1"})
    line = ["data", "add", str(source), "--name", "raw"]
    assert not quick.answer_argv(line)  # not versioned yet: the CLI answers
    ok(*line)
    for extra in ([], ["-o", "json"], ["--output", "json", "-m", "again"]):
        typer_answer = ok(*line, *extra)
        capsys.readouterr()
        assert quick.answer_argv([*line, *extra])
        assert capsys.readouterr().out == typer_answer
    for odd in (
        ["data", "add", "--name=raw", str(source)],
        [*line, "--debug"],
        [*line, "-o", "yaml"],
        [*line, "extra-path"],
        [*line, "--name", "twice"],
        ["data", "show", "raw"],
    ):
        assert not quick.answer_argv(odd), odd


def test_names_and_messages_cannot_drive_the_terminal(gnomon_home: Path, tmp_path: Path) -> None:
    source = make_folder(tmp_path / "src", {"x\x1b[2Jy.csv": b"a\x1b]0;pwned\x07,b\n1,2\n"})
    ok("data", "add", str(source), "--name", "raw", "-m", "\x1b[31mEVIL\r")
    for command in (["log", "raw"], ["show", "raw"], ["schema", "show", "raw"]):
        out = ok("data", *command)
        assert "\x1b" not in out and "\r" not in out and "\x07" not in out, command
    assert "\\x1b[31mEVIL\\x0d" in ok("data", "log", "raw")
