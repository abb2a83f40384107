"""``gnomon runs artifacts list|show|download``: embedded, and through a live server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app
from gnomon.tracking.cli_artifacts import MAX_TEXT_BYTES
from tests.fixtures.cli import fails, ok, ok_json
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer


def _fill(client: gnomon.Client) -> str:
    """A finished run with a text, a YAML, a Parquet table, an image and a binary file."""
    run = client.create_run(client.create_experiment("arts").id, "r")
    client.log_text(run.id, "line one\nline \x1b]0;owned\x07two\n", "notes/readme.txt")
    client.log_dict(run.id, {"lr": 0.1, "layers": [64, 32]}, "config.yaml")
    frame = pd.DataFrame({"id": range(30), "score": np.linspace(0, 1, 30), "s": ["x"] * 30})
    client.log_table(run.id, frame, "eval/scores.parquet")
    client.log_image(run.id, np.zeros((2, 2), dtype=np.uint8), "eval/plots/ramp.png")
    client.tracking.log_bytes(client.scope, run.id, b"\x00\x01\x02", "model.bin")
    client.end_run(run.id)
    return run.id


@pytest.fixture
def run_id(gnomon_home: Path) -> str:
    return _fill(gnomon.Client())


def test_list_shows_one_level_or_every_file(run_id: str) -> None:
    top = ok_json("runs", "artifacts", "list", run_id)
    assert [(a["path"], a["is_dir"]) for a in top] == [
        ("config.yaml", False),
        ("eval", True),
        ("model.bin", False),
        ("notes", True),
    ]
    assert top[0]["size"] == len("lr: 0.1\nlayers:\n- 64\n- 32\n")
    every = ok_json("runs", "artifacts", "list", run_id, "--recursive")
    assert [a["path"] for a in every] == [
        "config.yaml",
        "eval/plots/ramp.png",
        "eval/scores.parquet",
        "model.bin",
        "notes/readme.txt",
    ]
    table = ok("runs", "artifacts", "list", run_id, "eval")
    assert "eval/plots" in table and "dir" in table and "eval/scores.parquet" in table
    assert "KiB" in table  # sizes for people
    assert [a["path"] for a in ok_json("runs", "artifacts", "list", run_id, "config.yaml")] == [
        "config.yaml"
    ]


def test_list_names_what_is_missing(run_id: str) -> None:
    line = fails("runs", "artifacts", "list", run_id, "evl")
    assert line == f"error: run {run_id!r} has no artifact 'evl'; did you mean 'eval'?"


@pytest.mark.parametrize("command", ["list", "show", "download"])
def test_a_path_climbing_out_is_refused(run_id: str, command: str) -> None:
    line = fails("runs", "artifacts", command, run_id, "../etc/passwd")
    assert "must be relative and must not contain '..'" in line


def test_show_prints_text_as_it_is_when_piped(run_id: str) -> None:
    assert ok("runs", "artifacts", "show", run_id, "config.yaml") == (
        "lr: 0.1\nlayers:\n- 64\n- 32\n"
    )


def test_show_in_a_terminal_highlights_and_defuses_control_characters(run_id: str) -> None:
    terminal = CliRunner(env={"COLUMNS": "120", "FORCE_COLOR": "1"})
    text = terminal.invoke(app, ["runs", "artifacts", "show", run_id, "notes/readme.txt"]).stdout
    assert "\x1b]0;owned" not in text and "\x07" not in text
    assert "\\x1b]0;owned\\x07two" in text
    yaml = terminal.invoke(app, ["runs", "artifacts", "show", run_id, "config.yaml"]).stdout
    assert "\x1b[" in yaml and "layers" in yaml  # coloured by the YAML lexer


def test_show_a_table_prints_its_first_rows_and_counts(run_id: str) -> None:
    text = ok("runs", "artifacts", "show", run_id, "eval/scores.parquet", "--rows", "3")
    lines = [line.split() for line in text.splitlines() if line.strip()]
    assert lines[0] == ["id", "score", "s"]
    assert lines[2:5] == [["0", "0", "x"], ["1", "0.0344828", "x"], ["2", "0.0689655", "x"]]
    assert "30 rows, 3 columns, first 3 shown" in text


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("eval/plots/ramp.png", "is an image (PNG)"),
        ("model.bin", "is binary"),
    ],
)
def test_show_refuses_what_a_terminal_cannot_show(run_id: str, path: str, reason: str) -> None:
    line = fails("runs", "artifacts", "show", run_id, path)
    assert line == (
        f"error: artifact {path!r} {reason}: download it with "
        f"'gnomon runs artifacts download {run_id} {path}'"
    )


def test_show_refuses_a_folder_and_a_missing_file(run_id: str) -> None:
    assert "is a folder: list it with" in fails("runs", "artifacts", "show", run_id, "eval")
    line = fails("runs", "artifacts", "show", run_id, "eval/score.parquet")
    assert line.endswith(
        "has no artifact 'eval/score.parquet'; did you mean 'eval/scores.parquet'?"
    )


def test_show_refuses_a_large_file_before_reading_it(gnomon_home: Path) -> None:
    client = gnomon.Client()
    run = client.create_run(client.create_experiment("big").id)
    client.log_text(run.id, "x" * (MAX_TEXT_BYTES + 1), "big.log")
    line = fails("runs", "artifacts", "show", run.id, "big.log")
    assert "'big.log' is 1.0 MiB; show prints up to 1.0 MiB: download it" in line


def test_show_stops_decoding_what_an_encoding_multiplies(gnomon_home: Path) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    def parquet(table: pa.Table, **options: object) -> bytes:
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd", **options)
        return sink.getvalue()

    client = gnomon.Client()
    run = client.create_run(client.create_experiment("encoded").id)
    # 200,000 list values from run-length encoded levels: a few hundred bytes.
    lists = pa.table({"l": pa.array([[0] * 200_000], pa.list_(pa.int8()))})
    client.tracking.log_bytes(client.scope, run.id, parquet(lists), "lists.parquet")
    # 1,000 rows of one 100 KiB value, each stored as its shared prefix: 100 MiB decoded.
    shared = pa.table({"s": ["z" * 100 * 1024] * 1000})
    delta = parquet(shared, use_dictionary=False, column_encoding={"s": "DELTA_BYTE_ARRAY"})
    client.tracking.log_bytes(client.scope, run.id, delta, "shared.parquet")
    line = fails("runs", "artifacts", "show", run.id, "lists.parquet")
    assert "holds 200000 list or map values in the rows shown; show reads up to 100000" in line
    line = fails("runs", "artifacts", "show", run.id, "shared.parquet", "--rows", "1000")
    assert "decodes to over 32 MiB in its first rows: download it" in line
    assert "zzz…" in ok("runs", "artifacts", "show", run.id, "shared.parquet")  # 20 rows: 2 MiB


def test_download_a_folder_a_file_and_everything(run_id: str, tmp_path: Path) -> None:
    said = ok("runs", "artifacts", "download", run_id, "eval", "--dest", str(tmp_path / "a"))
    assert re.fullmatch(rf"downloaded 2 files \(\d\.\d KiB\) to {tmp_path / 'a' / 'eval'}\n", said)
    assert sorted(
        p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.*")
    ) == [
        "eval/plots/ramp.png",
        "eval/scores.parquet",
    ]
    ok("runs", "artifacts", "download", run_id, "config.yaml", "-d", str(tmp_path / "b"))
    assert (tmp_path / "b" / "config.yaml").read_text().startswith("lr: 0.1")
    said = ok("runs", "artifacts", "download", run_id, "--dest", str(tmp_path / "c"))
    assert said.startswith("downloaded 5 files")
    assert (tmp_path / "c" / "notes" / "readme.txt").read_text().startswith("line one")
    pd.read_parquet(tmp_path / "c" / "eval" / "scores.parquet")


def test_download_into_a_file_is_refused(run_id: str, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    line = fails("runs", "artifacts", "download", run_id, "--dest", str(tmp_path / "taken"))
    assert "is a file, not a folder" in line


def test_download_goes_to_a_folder_named_after_the_run(
    run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    said = ok("runs", "artifacts", "download", run_id, "config.yaml")
    assert said.endswith(f"to {tmp_path / 'here' / run_id / 'config.yaml'}\n")
    assert [p.name for p in (tmp_path / "here").iterdir()] == [run_id]


def test_download_keeps_existing_files_unless_told(run_id: str, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    (dest / "notes").mkdir(parents=True)
    (dest / "notes" / "readme.txt").write_text("mine")
    line = fails("runs", "artifacts", "download", run_id, "--dest", str(dest))
    assert line == (
        f"error: {str(dest / 'notes' / 'readme.txt')!r} exists already: nothing was "
        "downloaded; pass --overwrite to replace what is there, or choose another --dest"
    )
    # Checked before anything was written: no other file, no staging folder left behind.
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "notes",
        "notes/readme.txt",
    ]
    assert (dest / "notes" / "readme.txt").read_text() == "mine"
    ok("runs", "artifacts", "download", run_id, "--dest", str(dest), "--overwrite")
    assert (dest / "notes" / "readme.txt").read_text().startswith("line one")
    assert len([p for p in dest.rglob("*") if p.is_file()]) == 5
    line = fails("runs", "artifacts", "download", run_id, "eval", "--dest", str(dest))
    assert "'" + str(dest / "eval" / "plots" / "ramp.png") + "' and 1 more exist already" in line


@pytest.mark.parametrize("planted", [".git/config", "eval/.GIT/config", ".hg/hgrc"])
def test_download_refuses_a_repository_folder_a_run_holds(
    gnomon_home: Path, tmp_path: Path, planted: str
) -> None:
    client = gnomon.Client()
    run = client.create_run(client.create_experiment("planted").id)
    client.log_text(run.id, "a", "eval/a.txt")
    client.log_text(run.id, "[core]\n\tfsmonitor = touch owned\n", planted)
    line = fails("runs", "artifacts", "download", run.id, "--dest", str(tmp_path / "d"))
    assert line.startswith(f"error: refusing to download {planted!r}: files under a ")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "path", [".git", ".Git/config", "a/.GIT", ".hg", "git~1/config", ".git./config", ".g\u200cit"]
)
def test_download_refuses_a_repository_folder_asked_for(run_id: str, path: str) -> None:
    line = fails("runs", "artifacts", "download", run_id, path)
    assert line.startswith(f"error: refusing to download {path!r}: files under a ")


# -- remote --------------------------------------------------------------------------------------


@pytest.fixture
def remote_run(
    open_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A run on the live server, and the CLI pointed at it."""
    assert open_server.services.database is not None
    workspace = fresh_workspace(open_server.services.database).workspace
    for name, value in (("URI", open_server.url), ("WORKSPACE", workspace)):
        monkeypatch.setenv(f"GNOMON_{name}", value)
    monkeypatch.setenv("GNOMON_HOME", str(tmp_path / "home"))
    client = gnomon.Client()
    yield _fill(client)
    client.close()


def test_remote_list_show_and_download(remote_run: str, tmp_path: Path) -> None:
    every = ok_json("runs", "artifacts", "list", remote_run, "-r")
    assert len(every) == 5 and every[1]["path"] == "eval/plots/ramp.png"
    assert "30 rows" in ok("runs", "artifacts", "show", remote_run, "eval/scores.parquet")
    said = ok("runs", "artifacts", "download", remote_run, "eval", "--dest", str(tmp_path / "d"))
    assert said.startswith("downloaded 2 files")
    assert (tmp_path / "d" / "eval" / "plots" / "ramp.png").read_bytes()[:4] == b"\x89PNG"
    line = fails("runs", "artifacts", "download", remote_run, "eval/../../x")
    assert "must not contain '..'" in line
    missing = fails("runs", "artifacts", "list", remote_run, "nothing/here")
    assert missing == f"error: run {remote_run!r} has no artifact 'nothing/here'"


def test_remote_download_refuses_what_the_server_lists_under_git(
    remote_run: str, tmp_path: Path
) -> None:
    client = gnomon.Client()
    run = client.create_run(client.get_run(remote_run).experiment_id)
    client.log_text(run.id, "[core]\n\tfsmonitor = touch owned\n", "eval/.git/config")
    line = fails("runs", "artifacts", "download", run.id, "eval", "--dest", str(tmp_path / "d"))
    assert line.startswith("error: refusing to download 'eval/.git/config'")
    assert not (tmp_path / "d").exists()
    client.close()


# -- what a run's editor writes ------------------------------------------------------------------

LINK = "[link=https://evil.example]x[/link]"
BROKEN = "[/oops]"


def test_markup_in_paths_headers_and_cells_prints_as_it_is(gnomon_home: Path) -> None:
    client = gnomon.Client()
    run = client.create_run(client.create_experiment("marked").id)
    # A '/' in a key makes folders: the recursive listing prints the whole paths.
    linked = "[link=evil.example]x[/link].parquet"
    client.log_text(run.id, "x", f"{BROKEN}.txt")
    client.log_table(run.id, pd.DataFrame({BROKEN: [LINK]}), linked)
    listed = ok("runs", "artifacts", "list", run.id, "--recursive")
    assert f"{BROKEN}.txt" in listed and linked in listed
    shown = ok("runs", "artifacts", "show", run.id, linked)
    assert BROKEN in shown and LINK in shown


def test_show_reads_the_footer_before_a_cell_that_expands(gnomon_home: Path) -> None:
    client = gnomon.Client()
    run = client.create_run(client.create_experiment("bomb").id)
    # 40 MiB of one character: a few KiB compressed, far over what show decodes.
    client.log_table(run.id, pd.DataFrame({"s": ["x" * (40 * 2**20)]}), "bomb.parquet")
    line = fails("runs", "artifacts", "show", run.id, "bomb.parquet")
    assert "holds 40.0 MiB uncompressed in the columns and rows shown" in line
    assert line.endswith(f"download it with 'gnomon runs artifacts download {run.id} bomb.parquet'")


def test_show_decodes_a_repeated_value_once_and_cuts_cells(gnomon_home: Path) -> None:
    import pyarrow as pa

    client = gnomon.Client()
    run = client.create_run(client.create_experiment("repeat").id)
    # One 256 KiB value in 1,000 rows: stored once in the dictionary, 256 MiB decoded per row.
    repeated = pa.DictionaryArray.from_arrays(pa.array([0] * 1000), pa.array(["y" * 2**18]))
    frame = pd.DataFrame({"s": repeated.to_pandas(), "n": range(1000)})
    client.log_table(run.id, frame, "repeat.parquet")
    shown = ok("runs", "artifacts", "show", run.id, "repeat.parquet", "--rows", "1000")
    assert "1000 rows, 2 columns" in shown
    cells = [line.split()[0] for line in shown.splitlines() if line.strip().startswith("y")]
    assert len(cells) == 1000 and all(len(cell) == 200 and cell.endswith("…") for cell in cells)
