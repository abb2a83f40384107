"""What starting the CLI imports: a command loads its own capability's CLI module and no
other, and ``gnomon --help`` and ``gnomon version`` load none. (How fast: bench/cli_startup.py.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gnomon.capabilities import commands

# Run as the console script runs, then list what got imported.
_PROBE = """
import json, sys
from gnomon.cli.app import main
sys.argv = ["gnomon", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.__stdout__.write("\\n" + json.dumps(sorted(sys.modules)))
"""

CLI_MODULES = sorted({f"{c.package}.{cmd.target.partition(':')[0]}" for c, cmd in commands()})
# Heavy or capability-specific: nothing a listing or a version number needs.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "pandas",
    "numpy",
    "pyarrow",
    "yaml",
    "pydantic_settings",
    "gnomon.config",
    "gnomon.sdk",
    "gnomon.backends",
)


def _probed(probe: str, home: Path, *args: str) -> str:
    """The last line ``probe`` printed, run with ``args`` as the command line."""
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        env={"GNOMON_HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()[-1]


def _imported(home: Path, *args: str) -> set[str]:
    return set(json.loads(_probed(_PROBE, home, *args)))


def _loaded(modules: set[str], prefixes: tuple[str, ...] | list[str]) -> list[str]:
    return sorted(m for m in modules for p in prefixes if m == p or m.startswith(p + "."))


@pytest.mark.parametrize("args", [["--help"], ["version"], ["--version"]])
def test_help_and_version_import_no_capability(tmp_path: Path, args: list[str]) -> None:
    modules = _imported(tmp_path, *args)
    loaded_cli = [m for m in CLI_MODULES if m in modules]
    # `version` is itself a command of the cli capability: `gnomon.cli.db:version`.
    assert loaded_cli == ([] if args == ["--help"] else ["gnomon.cli.db"])
    assert _loaded(modules, HEAVY) == []
    # Nor any capability's entities, schemas or services.
    capability_modules = [
        m
        for m in modules
        if m.startswith("gnomon.") and not m.startswith(("gnomon.cli", "gnomon._", "gnomon.err"))
    ]
    assert sorted(capability_modules) == ["gnomon.capabilities", "gnomon.checks"]


def test_a_command_imports_only_its_own_capability(tmp_path: Path) -> None:
    modules = _imported(tmp_path, "runs", "--help")
    assert [m for m in CLI_MODULES if m in modules] == ["gnomon.tracking.cli"]
    assert _loaded(modules, HEAVY) == []
    assert not _loaded(modules, ["gnomon.registry", "gnomon.deployments", "gnomon.serving"])


def test_a_finished_command_leaves_its_heap_to_the_exit_alone(tmp_path: Path) -> None:
    # Frozen, what the command built is not walked by the interpreter's last collections
    # (bench/workloads/cli_startup.py times it); a failed command exits the same way.
    probe = (
        "import gc, sys\n"
        "from gnomon.cli.app import main\n"
        "sys.argv = ['gnomon', *sys.argv[1:]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    sys.__stdout__.write(f'\\n{exit.code} {gc.get_freeze_count() > 1000}')\n"
    )
    for args, code in ((["experiments", "list"], "0"), (["runs", "show", "nope"], "1")):
        assert _probed(probe, tmp_path, *args) == f"{code} True"
