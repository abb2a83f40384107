"""deploy/compose/make-tokens.sh against a live server: Prometheus gets a token that reads
the monitors' and rollouts' metrics, the model server one bound to its workspace, each file
readable by its one user; a second run keeps them."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.fixtures.own_server import own_auth_server
from tests.fixtures.processes import GNOMON
from tests.fixtures.server import ADMIN_PASSWORD

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "compose" / "make-tokens.sh"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the script gives each file to its reader's user: needs root"
)


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_stack_gets_its_tokens_once(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    with own_auth_server("sqlite", request, tmp_path / "server") as live:
        env = {
            "PATH": f"{Path(GNOMON).parent}:{os.environ['PATH']}",
            "GNOMON_URI": live.url,
            "GNOMON_HOME": str(tmp_path / "home"),
            "GNOMON_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "TOKENS_DIR": str(tokens),
        }
        first = _run(env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert ADMIN_PASSWORD not in first.stdout + first.stderr
        made = {name: (tokens / name).read_text() for name in ("prometheus", "model-server")}
        for name, owner in (("prometheus", 65534), ("model-server", 10001)):
            info = (tokens / name).stat()
            assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (owner, owner, 0o400)
            assert made[name].startswith("gnm_") and len(made[name].splitlines()) == 1

        def get(path: str, token: str) -> int:
            headers = {"Authorization": f"Bearer {token.strip()}"}
            return httpx.get(f"{live.url}/api/v1{path}", headers=headers).status_code

        for route in ("/metrics/monitors", "/metrics/rollouts"):
            assert get(route, made["prometheus"]) == 200
            assert get(route, made["model-server"]) == 403  # bound to one workspace
        assert get("/deployments", made["model-server"]) == 200

        again = _run(env)
        assert again.returncode == 0, again.stdout + again.stderr
        assert again.stdout.count(": kept") == 2
        assert {name: (tokens / name).read_text() for name in made} == made
