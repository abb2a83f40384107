"""`gnomon build-image` options: --server, --from-index, --extra, --base-image and --pin-base."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gnomon._version import __version__
from gnomon.cli.app import app
from tests.unit.serving.image_checks import instructions, lines, pip_installs

runner = CliRunner()
DIGEST = "sha256:" + "12" * 32


@pytest.fixture
def folder(gnomon_home: Path, tmp_path: Path) -> Path:
    from sklearn.linear_model import LinearRegression

    from gnomon.modelfolder import save_model

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=30), "y": rng.normal(size=30)})
    save_model(LinearRegression().fit(frame, frame["x"]), tmp_path / "m", input_example=frame)
    return tmp_path / "m"


def test_the_server_context(gnomon_home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["build-image", "--server", str(tmp_path / "srv")])
    assert result.exit_code == 0, result.output
    assert "tracking server" in result.stdout
    assert f"docker build -t gnomon-server:{__version__}" in result.stdout
    # The wheel is built once and kept under GNOMON_HOME for the next context.
    assert len(list((gnomon_home / "cache" / "wheels").glob("*/gnomon-*.whl"))) == 1
    assert (tmp_path / "srv" / "wheels" / f"gnomon-{__version__}-py3-none-any.whl").is_file()


def test_model_options(folder: Path, tmp_path: Path) -> None:
    args = ["build-image", str(folder), str(tmp_path / "ctx"), "--from-index", "--extra", "s3"]
    pinned = f"python:3.11-slim@{DIGEST}"
    result = runner.invoke(app, [*args, "--base-image", pinned, "--pin-base"])
    assert result.exit_code == 0, result.output
    assert instructions(tmp_path / "ctx" / "Dockerfile")[0] == f"FROM {pinned}"
    assert pip_installs(tmp_path / "ctx" / "Dockerfile")[1].endswith(f"gnomon=={__version__}")
    assert any(pin.startswith("s3fs==") for pin in lines(tmp_path / "ctx" / "requirements.lock"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pin-base"], "has no digest"),
        (["--base-image", "python:3.11@sha256:12"], "64 hex"),
        (["--extra", "nosql"], "no extra nosql"),
        (["--from-index", "--wheel", "x.whl"], "not both"),
        (["--server", "srv"], "not both"),
    ],
)
def test_refusals_are_one_line(folder: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["build-image", str(folder), str(tmp_path / "ctx"), *args])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "ctx").exists()


def test_a_uri_and_a_folder_or_the_server(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["build-image", "models:/churn/1"])
    assert result.exit_code == 1 and "or --server FOLDER" in result.stderr
