"""The import contracts, derived from the capability manifest, checked with import-linter.

The manifest lists a capability after those it builds on, so its order is the layering: a
capability never imports one listed after it. A new capability joins every contract by its
manifest entry alone. ``python -m tests.layering`` (``make lint``, ``make test``) checks them;
``tests/unit/test_layering.py`` also shows that a violation is caught.
"""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gnomon.capabilities import CAPABILITIES, Capability

ENTRY_POINTS = ("cli", "server", "ui")  # the root CLI, the API server, the web UI: any import
PLUMBING = ("modelfolder", "artifacts", "store", "client", "web")  # below every capability
SHARED = (
    "services",
    "capabilities",
    "checks",
    "wire",
    "errors",
    "_types",
    "config",
    "nesting",
    "progress",
    "logs",
)


def contracts(capabilities: Sequence[Capability] = CAPABILITIES) -> str:
    """import-linter's configuration (TOML) for ``capabilities``."""
    layered = [c for c in capabilities if c.name not in ENTRY_POINTS and c.home is None]
    packages = [c.package for c in layered]
    plumbing = [f"gnomon.{name}" for name in PLUMBING]
    everyone = [
        *packages,
        "gnomon.server",
        "gnomon.cli",
        "gnomon.ui",
        "gnomon.sdk",
        "gnomon.backends",
    ]
    # A capability's commands and routes are its edges: they may use the CLI's and the API
    # server's plumbing, and its commands (entry points, like the fluent API) any capability.
    command_modules = sorted(
        {c.module(cmd.target.partition(":")[0]) for c in layered for cmd in c.commands}
    )
    command_modules += [part for m in command_modules for part in _parts(m)]
    route_modules = sorted({c.module(r) for c in layered for r in c.routers})
    edges = [f"{m} -> gnomon.**" for m in command_modules]
    edges += [f"{m} -> gnomon.server.**" for m in route_modules]
    edges += [f"{p}.fluent -> gnomon.sdk" for p in packages]
    return "\n".join(
        [
            "[tool.importlinter]",
            'root_package = "gnomon"',
            _contract(
                "Capabilities build only on those listed before them in the manifest",
                "layers",
                layers=[*reversed(packages), " : ".join(plumbing)],
                ignore_imports=edges,
            ),
            _contract(
                "The model format knows no capability",
                "forbidden",
                source_modules=["gnomon.modelfolder"],
                forbidden_modules=everyone,
            ),
            _contract(
                "Only commands and routes import the CLI and the API server",
                "forbidden",
                source_modules=[*packages, *plumbing, "gnomon.sdk", "gnomon.backends"],
                forbidden_modules=["gnomon.cli", "gnomon.server"],
                ignore_imports=edges,
            ),
            _contract(
                "Only the API server imports the web UI",
                "forbidden",
                source_modules=[*packages, *plumbing, "gnomon.sdk", "gnomon.backends"],
                forbidden_modules=["gnomon.ui"],
            ),
            _contract(
                "Shared modules import no capability",
                "forbidden",
                source_modules=[f"gnomon.{name}" for name in SHARED],
                forbidden_modules=everyone,
            ),
        ]
    )


def _parts(module: str) -> list[str]:
    """The modules a command module is split into, named after it: ``tracking/cli.py``'s
    sub-apps in ``cli_artifacts.py`` and ``cli_history.py`` are commands like it."""
    package, _, name = module.rpartition(".")
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = pkgutil.iter_modules(folders)
    return sorted(f"{package}.{m.name}" for m in found if m.name.startswith(f"{name}_"))


def check(config: str) -> subprocess.CompletedProcess[str]:
    """Run import-linter on ``config``; its report is in stdout."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "importlinter.toml"
        path.write_text(config)
        lint = Path(sys.executable).with_name("lint-imports")
        return subprocess.run(
            [str(lint), "--no-cache", str(path)], capture_output=True, text=True, check=False
        )


def _contract(name: str, kind: str, **lists: list[str]) -> str:
    lines = ["", "[[tool.importlinter.contracts]]", f"name = {json.dumps(name)}"]
    lines.append(f"type = {json.dumps(kind)}")
    lines += [f"{key} = {json.dumps(values)}" for key, values in lists.items()]
    if "ignore_imports" in lists:  # the edges are listed for every capability, used or not
        lines.append('unmatched_ignore_imports_alerting = "none"')
    return "\n".join(lines)


if __name__ == "__main__":
    done = check(contracts())
    print(done.stdout.strip().splitlines()[-1] if done.returncode == 0 else done.stdout)
    sys.exit(done.returncode)
