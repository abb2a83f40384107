"""Adding a capability is a folder plus one manifest entry.

The toy capability in ``tests/fixtures/toy_capability/`` (notes per workspace) is copied to
a package of its own with a first migration on top of today's head, and one ``Capability``
is appended to the manifest. Nothing else changes, yet its table is migrated, the server
mounts its routes behind the same guard, ``gnomon toy`` runs, and ``client.toy`` works
embedded and remote. It runs in a subprocess: its table must not join this worker's
metadata.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gnomon.store.migrate import head

FIXTURE = Path(__file__).parents[1] / "fixtures" / "toy_capability"

MIGRATION = '''"""The toy capability's notes."""

import sqlalchemy as sa
from alembic import op

revision = "toy1"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "toy_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("text", sa.String(200), nullable=False),
    )
    op.create_index("ix_toy_notes_workspace_id", "toy_notes", ["workspace_id"])
'''

# The one manifest entry, and what the program does with the capability it adds.
PROGRAM = r"""
import json, sys
sys.path.insert(0, sys.argv[1])

from gnomon import capabilities
from gnomon.capabilities import Capability, Command

capabilities.CAPABILITIES += (
    Capability("toy", home="gnomon_toy", tables="tables", migrations="migrations",
               routers=("routes",), services="wiring:build",
               commands=(Command("toy", "cli:toy_app", "Notes of the workspace."),)),
)

import httpx
from typer.testing import CliRunner

import gnomon
from gnomon.cli.app import app
from gnomon.server.app import create_app
from gnomon.serving.local import run_in_thread
from gnomon.store.migrate import head

seen = {"head": head()}
embedded = gnomon.Client()
seen["embedded"] = embedded.toy.add("written embedded").text
with run_in_thread(create_app(no_auth=True)) as url:
    remote = gnomon.Client(uri=url)
    seen["remote"] = remote.toy.add("written remotely").text
    seen["remote_list"] = [note.text for note in remote.toy.list()]
    refused = httpx.post(f"{url}/api/v1/toy/notes", json={"text": 7})
    seen["refused"] = [refused.status_code, refused.json()["error"]["code"]]
    seen["documented"] = "/api/v1/toy/notes" in httpx.get(f"{url}/openapi.json").json()["paths"]
    try:
        remote.toy.add("x" * 201)
    except gnomon.InvalidInput as exc:
        seen["too_long"] = str(exc)
runner = CliRunner()
seen["cli_list"] = runner.invoke(app, ["toy", "list"]).output
seen["cli_help"] = runner.invoke(app, ["--help"]).output
print(json.dumps(seen))
"""


def test_a_capability_added_by_one_manifest_entry_works_everywhere(tmp_path: Path) -> None:
    package = tmp_path / "plugins" / "gnomon_toy"
    shutil.copytree(FIXTURE, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "migrations").mkdir()
    (package / "migrations" / "0001_toy_notes.py").write_text(MIGRATION.format(down=head()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_")}
    env["GNOMON_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(package.parent)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["head"] == "toy1"  # its revision joined the one history, on top
    assert seen["embedded"] == "written embedded"
    assert seen["remote"] == "written remotely"
    assert seen["remote_list"] == ["written embedded", "written remotely"]
    assert seen["refused"] == [422, "invalid_input"]  # the server's checked wire types
    assert seen["documented"]
    assert "1 to 200 characters" in seen["too_long"]  # the server's rule, raised remotely
    assert "written embedded" in seen["cli_list"] and "written remotely" in seen["cli_list"]
    assert "toy" in seen["cli_help"] and "Notes of the workspace." in seen["cli_help"]
