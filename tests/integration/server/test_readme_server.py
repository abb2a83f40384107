"""The README's "Sharing a server" section runs as written: a real `gnomon server` process,
then the CLI commands of the section (password prompts answered), then the tour's code as
train.py through the server."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gnomon.cli.app import app
from tests.fixtures.processes import GNOMON, free_port, wait_until_answers

README = Path(__file__).parents[3] / "README.md"
PASSWORDS = {"admin": "change-me-now", "alice": "alice-password-1"}


def _section_blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## Sharing a server", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```shell\n(.*?)```", section, re.DOTALL)


def _lines(block: str) -> list[str]:
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_server_section(tmp_path: Path) -> None:
    start, admin_block, alice_block = _section_blocks()
    port = free_port()
    (server_line,) = _lines(start)
    assignment, command = server_line.split(" ", 1)
    name, value = assignment.split("=", 1)
    env = {**os.environ, "GNOMON_HOME": str(tmp_path / "server"), name: value.strip("'")}
    argv = shlex.split(command.replace("--port 5000", f"--port {port}"))
    server = subprocess.Popen(
        [GNOMON, *argv[1:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/healthz", timeout=30)
        admin_env = _run(admin_block, port, tmp_path / "admin", {})
        assert admin_env["GNOMON_URI"] == f"http://127.0.0.1:{port}"
        _run(alice_block, port, tmp_path / "alice", {"train": _tour_script(tmp_path)})
    finally:
        server.terminate()
        server.wait(timeout=20)


def _run(block: str, port: int, home: Path, extra: dict[str, Path]) -> dict[str, str]:
    env = {"GNOMON_HOME": str(home), "COLUMNS": "200"}
    runner = CliRunner()
    for line in _lines(block):
        line = line.replace("127.0.0.1:5000", f"127.0.0.1:{port}")
        if line.startswith("export "):
            for pair in line.removeprefix("export ").split():
                key, value = pair.split("=", 1)
                env[key] = value
        elif line.startswith("python train.py"):
            done = subprocess.run(
                [sys.executable, str(extra["train"])],
                env={**os.environ, **env},
                cwd=extra["train"].parent,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr
        else:
            argv = shlex.split(line)[1:]
            result = runner.invoke(app, argv, env=env, input=_answers(argv))
            assert result.exit_code == 0, f"{line}: {result.output}"
            if argv[:2] == ["runs", "list"]:
                assert "rf-baseline" in result.output
    return env


def _answers(argv: list[str]) -> str | None:
    if argv[0] == "login":
        return PASSWORDS[argv[argv.index("--username") + 1]] + "\n"
    if argv[:2] == ["users", "create"]:
        password = PASSWORDS[argv[2]]
        return f"{password}\n{password}\n"
    return None


def _tour_script(tmp_path: Path) -> Path:
    code = "\n".join(re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL))
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "train.py").write_text(code)
    return folder / "train.py"
