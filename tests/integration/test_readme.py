"""The README tour runs as written: its Python blocks in order, then its CLI commands."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.fixtures.processes import GNOMON

README = Path(__file__).parents[2] / "README.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(), re.DOTALL)


def test_readme_tour(tmp_path: Path) -> None:
    env = {**os.environ, "GNOMON_HOME": str(tmp_path / "home")}
    other = (
        "\nwith gnomon.start_run(name='rf-deeper') as other:\n"
        "    gnomon.log_params({'n_estimators': 100, 'max_depth': 12})\n"
        "print('RUN_ID', run.id, other.id)\n"
    )
    script = "\n".join(_blocks("python")) + other
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "rf-baseline 0.88"
    assert "'acc': 0.91" in lines[1] and "'loss': 0.01" in lines[1]
    assert lines[2] == "100"
    assert "confusion.csv" in lines[3]
    assert lines[4] == "1 sklearn [0, 0, 0]"
    run_id, other_id = lines[-1].split()[1:]

    commands = [
        line.split("#")[0].strip()
        for block in _blocks("console")
        for line in block.splitlines()
        if line.startswith("gnomon ")
    ]
    assert len(commands) >= 7
    for command in commands:
        argv = shlex.split(command.replace("<run-id>", run_id).replace("<other-run-id>", other_id))
        done = subprocess.run(
            [GNOMON, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}: {done.stderr}"
        if "--output json" in command:
            assert json.loads(done.stdout)["id"] == run_id
