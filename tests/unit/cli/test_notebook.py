"""``gnomon notebook``'s kernel environment, JupyterLab's command line, and what it refuses
before starting anything (tests/integration/test_gnomon_notebook.py starts it)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gnomon.cli.app import app
from gnomon.cli.notebook import jupyter_argv, kernel_environment
from gnomon.client.credentials import save_token
from gnomon.config import Settings

runner = CliRunner()
SERVER = "http://127.0.0.1:5999"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GNOMON_* of the caller's; and a refusal that failed would exec JupyterLab in place
    of pytest: fail the test instead."""
    for name in [n for n in os.environ if n.startswith("GNOMON_")]:
        monkeypatch.delenv(name)

    def started(path: str, argv: list[str], env: dict[str, str]) -> None:
        raise AssertionError(f"JupyterLab was started: {argv}")

    monkeypatch.setattr(os, "execve", started)


def test_embedded_paths_are_absolute_for_kernels_started_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(home=Path("home"), workspace="team", artifacts="files")
    env = kernel_environment(settings, {"PATH": "/bin", "GNOMON_EXPERIMENT": "churn"})
    assert env == {
        "PATH": "/bin",
        "GNOMON_EXPERIMENT": "churn",
        "GNOMON_HOME": str(tmp_path / "home"),
        "GNOMON_URI": f"sqlite:///{tmp_path / 'home' / 'gnomon.db'}",
        "GNOMON_WORKSPACE": "team",
        "GNOMON_ARTIFACTS": str(tmp_path / "files"),
    }


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///meta.db?timeout=5", "sqlite:///{cwd}/meta.db?timeout=5"),
        ("sqlite:////srv/meta.db", "sqlite:////srv/meta.db"),
        ("postgresql://u:p@db/gnomon", "postgresql://u:p@db/gnomon"),
    ],
)
def test_a_relative_sqlite_uri_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    env = kernel_environment(Settings(home=tmp_path, uri=uri, artifacts="s3://b/p"), {})
    assert env["GNOMON_URI"] == expected.format(cwd=tmp_path)
    assert "GNOMON_ARTIFACTS" not in env and "GNOMON_TOKEN" not in env


def test_a_server_gets_the_saved_session_token(tmp_path: Path) -> None:
    save_token(tmp_path, SERVER, "saved-secret")
    env = kernel_environment(Settings(home=tmp_path, uri=SERVER), {})
    assert env["GNOMON_URI"] == SERVER and env["GNOMON_TOKEN"] == "saved-secret"
    given = kernel_environment(Settings(home=tmp_path, uri=SERVER, token="given"), {})
    assert given["GNOMON_TOKEN"] == "given"  # GNOMON_TOKEN wins, as it does for the CLI
    other = kernel_environment(Settings(home=tmp_path, uri="http://elsewhere:5000"), {})
    assert "GNOMON_TOKEN" not in other


def test_the_command_line_pins_a_port_asked_for(tmp_path: Path) -> None:
    argv = jupyter_argv(tmp_path, "127.0.0.1", 9000, open_browser=False, extra=["--x=1"])
    assert argv[:3] == [sys.executable, "-m", "jupyterlab"]
    assert argv[3:] == [
        f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=9000",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--x=1",
    ]
    assert not any("port" in a for a in jupyter_argv(tmp_path, "::1", None, open_browser=True))


@pytest.mark.parametrize(
    ("extra", "named", "advice"),
    [
        ("--ip=0.0.0.0", "--ip", "gnomon notebook --ip"),
        ("--ServerApp.ip=0.0.0.0", "--ServerApp.ip", "gnomon notebook --ip"),
        ("--port=1", "--port", "gnomon notebook --port"),
        ("--notebook-dir=/", "--notebook-dir", "FOLDER"),
        ("--IdentityProvider.token=", "--IdentityProvider.token", "JUPYTER_TOKEN"),
        ("--NotebookApp.token=abc", "--NotebookApp.token", "JUPYTER_TOKEN"),
    ],
)
def test_jupyter_args_cannot_override_what_gnomon_notebook_sets(
    gnomon_home: Path, extra: str, named: str, advice: str
) -> None:
    result = runner.invoke(app, ["notebook", "--", extra])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {named} is not passed on to JupyterLab") and advice in line
    assert "abc" not in result.output


def test_a_missing_folder_is_refused(gnomon_home: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["notebook", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "does not exist or is not a folder" in result.stderr


def test_a_port_in_use_is_refused_in_one_line(gnomon_home: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["notebook", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: port {port} on 127.0.0.1 is already in use (choose another with --port)"
    ]


def test_without_jupyterlab_it_says_which_extra_to_install(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules is Python's own "cannot be imported" (as without the extra).
    monkeypatch.setitem(sys.modules, "jupyterlab", None)
    result = runner.invoke(app, ["notebook"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: JupyterLab is not installed: pip install 'gnomon[notebook]'"
    ]


def test_an_unknown_workspace_is_refused_before_any_kernel_tries_it(
    gnomon_home: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["--workspace", "nope", "notebook", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: workspace 'nope' not found"]
