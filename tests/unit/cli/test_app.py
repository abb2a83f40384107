"""The root app: global options, one-line errors, --debug tracebacks, lazy client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gnomon import __version__
from gnomon.cli.app import app
from gnomon.sdk import Client

runner = CliRunner()


def test_version_prints_it_without_opening_the_store(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"gnomon {__version__}"
    assert not (gnomon_home / "gnomon.db").exists()


def test_help_lists_every_command(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("experiments", "runs", "db", "version", "demo"):
        assert command in result.stdout
    assert not (gnomon_home / "gnomon.db").exists()


def test_unknown_experiment_is_one_red_line_and_exit_1(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["runs", "list", "--experiment", "nope"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: experiment 'nope' not found"]
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_debug_shows_the_traceback_then_the_line(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["--debug", "runs", "list", "--experiment", "nope"])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "NotFound" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1] == "error: experiment 'nope' not found"


def test_long_messages_stay_on_one_line(gnomon_home: Path) -> None:
    bad = "metrics.acc > 0.9 and params.model = 'rf' and " + "x" * 120
    result = runner.invoke(app, ["runs", "search", "-e", "default", "--filter", bad])
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ")


def test_workspace_option_is_used(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["--workspace", "elsewhere", "experiments", "list"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: workspace 'elsewhere' not found"


def test_workspace_from_the_environment(gnomon_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GNOMON_WORKSPACE", "from-env")
    result = runner.invoke(app, ["experiments", "list"])
    assert result.stderr.strip() == "error: workspace 'from-env' not found"


def test_invalid_setting_is_a_clear_error(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_FLUSH_INTERVAL", "often")
    result = runner.invoke(app, ["experiments", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid GNOMON_* setting: flush_interval")
    assert len(result.stderr.splitlines()) == 1


def test_bugs_keep_their_traceback(gnomon_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only a GnomonError is an expected failure; anything else is a bug and must not be hidden.
    def broken(self: Client, run_id: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Client, "get_run", broken)
    result = runner.invoke(app, ["runs", "show", "some-run"])
    assert isinstance(result.exception, RuntimeError)
    assert "error:" not in result.stderr


def test_version_option_prints_what_the_command_does(gnomon_home: Path) -> None:
    flag, command = runner.invoke(app, ["--version"]), runner.invoke(app, ["version"])
    assert flag.exit_code == command.exit_code == 0
    assert flag.stdout == command.stdout == f"gnomon {__version__}\n"


def test_help_lists_the_manifests_commands_and_texts(gnomon_home: Path) -> None:
    from gnomon.capabilities import commands

    shown = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["--help"]).stdout
    for _, command in commands():
        assert f" {command.name} " in shown and command.help in shown


@pytest.mark.parametrize(
    "args",
    [
        ["--workspace", "elsewhere", "experiments", "list"],
        ["experiments", "--workspace", "elsewhere", "list"],
        ["experiments", "list", "--workspace", "elsewhere"],
    ],
)
def test_workspace_anywhere_on_the_line(gnomon_home: Path, args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == "error: workspace 'elsewhere' not found"


def test_workspace_after_the_command_beats_the_environment(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_WORKSPACE", "from-env")
    result = runner.invoke(app, ["experiments", "list", "--workspace", "default"])
    assert result.exit_code == 0, result.output


def test_debug_after_the_command(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["runs", "list", "--experiment", "nope", "--debug"])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1] == "error: experiment 'nope' not found"


def test_output_before_the_command_is_its_default(gnomon_home: Path) -> None:
    runner.invoke(app, ["experiments", "create", "churn"])
    before = runner.invoke(app, ["-o", "json", "experiments", "list"])
    after = runner.invoke(app, ["experiments", "list", "-o", "json"])
    assert before.exit_code == after.exit_code == 0, before.output
    assert before.stdout == after.stdout
    assert [e["name"] for e in json.loads(before.stdout)] == ["churn"]
    # The command's own --output wins over the root's.
    table = runner.invoke(app, ["--output", "json", "experiments", "list", "-o", "table"])
    assert "churn" in table.stdout and not table.stdout.lstrip().startswith("[")


def test_a_commands_own_workspace_option_is_left_alone(gnomon_home: Path) -> None:
    # `tokens create --workspace` binds the token to a workspace: not the global option.
    shown = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["tokens", "create", "--help"]).stdout
    assert "Bind the token to this one workspace" in shown
    assert "Workspace to act in" not in shown
    assert "--debug" in shown


def test_an_unknown_command_suggests_the_closest(gnomon_home: Path) -> None:
    result = runner.invoke(app, ["runss"])
    assert result.exit_code == 2
    assert "No such command 'runss'. Did you mean 'runs'?" in result.output
