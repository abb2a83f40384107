"""Several processes registering versions and moving aliases of one model at once, on SQLite
and PostgreSQL: numbers are distinct and gapless, and an alias never points nowhere."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gnomon._types import Scope
from gnomon.registry.entities import NewVersion, VersionQuery
from gnomon.registry.sql import SqlRegistryStore
from gnomon.store.database import Database
from tests.fixtures.databases import fresh_workspace

WORKERS = 4
REGISTRATIONS = 10
MOVERS = 3
MOVES = 30
VERSIONS = 5

# One worker process: opens its own engine, says "ready", waits for the go file so that all
# workers start together, then plays its role and prints a JSON result.
WORKER = r"""
import json, os, random, sys, time
from gnomon._types import Scope
from gnomon.errors import GnomonError
from gnomon.registry.entities import NewVersion
from gnomon.registry.sql import SqlRegistryStore
from gnomon.store.database import Database

uri, workspace, role, count, go, stop = sys.argv[1:7]
store = SqlRegistryStore(Database(uri))
scope = Scope(workspace=workspace, principal=f"{role}-{os.getpid()}")
store.get_model(scope, "shared")  # connected before the start line
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.002)
if role == "register":
    numbers = []
    for i in range(int(count)):
        spec = NewVersion(source=f"runs:/r{os.getpid()}/m{i}", storage_uri="/x", created_by="w")
        numbers.append(store.create_version(scope, "shared", spec).version)
    print(json.dumps(numbers))
elif role == "move":
    for _ in range(int(count)):
        store.set_alias(scope, "shared", "production", random.randint(1, int(sys.argv[7])), "w")
    print(json.dumps(int(count)))
else:
    reads, bad = 0, []
    while not os.path.exists(stop) or reads < 50:
        try:
            version = store.get_version_by_alias(scope, "shared", "production")
            if not 1 <= version.version <= int(sys.argv[7]) or version.storage_uri != "/x":
                bad.append(repr(version))
        except GnomonError as exc:
            bad.append(f"{type(exc).__name__}: {exc}")
        reads += 1
    print(json.dumps({"reads": reads, "bad": bad[:5], "failures": len(bad)}))
"""


class Workers:
    def __init__(self, uri: str, scope: Scope, tmp: Path) -> None:
        self.uri, self.scope = uri, scope
        self.go, self.stop = tmp / "go", tmp / "stop"
        self.procs: list[subprocess.Popen[str]] = []

    def spawn(self, role: str, count: int = 0, extra: str = str(VERSIONS)) -> None:
        args = [self.uri, self.scope.workspace, role, str(count), str(self.go), str(self.stop)]
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, *args, extra], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        self.procs.append(proc)

    def start(self) -> None:
        self.go.touch()

    def results(self, procs: list[subprocess.Popen[str]]) -> list[object]:
        out = []
        for proc in procs:
            stdout, _ = proc.communicate(timeout=180)
            assert proc.returncode == 0, stdout
            out.append(json.loads(stdout.strip().splitlines()[-1]))
        return out

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[SqlRegistryStore, Workers]]:
    """A store, a workspace holding the model "shared", and a launcher of worker processes."""
    if request.param == "sqlite":
        db = Database(request.getfixturevalue("sqlite_uri"))
        scope = Scope(principal="tester")
    else:
        db = request.getfixturevalue("postgres_db")
        scope = fresh_workspace(db)
    store = SqlRegistryStore(db)
    store.create_model(scope, "shared", "", {})
    workers = Workers(db.uri, scope, tmp_path)
    try:
        yield store, workers
    finally:
        workers.kill_all()
        if request.param == "sqlite":
            db.dispose()


def test_concurrent_registrations_get_distinct_gapless_numbers(
    shared: tuple[SqlRegistryStore, Workers],
) -> None:
    store, workers = shared
    for _ in range(WORKERS):
        workers.spawn("register", REGISTRATIONS)
    workers.start()
    returned = workers.results(workers.procs)

    total = WORKERS * REGISTRATIONS
    numbers = sorted(n for numbers in returned for n in numbers)  # type: ignore[attr-defined]
    assert numbers == list(range(1, total + 1))
    for worker_numbers in returned:  # each worker saw its own numbers grow
        assert worker_numbers == sorted(worker_numbers)  # type: ignore[type-var]
    page = store.search_versions(
        workers.scope, VersionQuery(model_name="shared", max_results=total + 10)
    )
    assert sorted(mv.version for mv in page) == list(range(1, total + 1))
    assert store.get_model(workers.scope, "shared").latest_version == total


def test_concurrent_alias_moves_never_leave_the_alias_dangling(
    shared: tuple[SqlRegistryStore, Workers],
) -> None:
    store, workers = shared
    scope = workers.scope
    for n in range(VERSIONS):
        spec = NewVersion(source=f"runs:/r/m{n}", storage_uri="/x", created_by="tester")
        store.create_version(scope, "shared", spec)
    store.set_alias(scope, "shared", "production", 1, "tester")

    workers.spawn("read")
    reader = workers.procs[-1]
    for _ in range(MOVERS):
        workers.spawn("move", MOVES)
    movers = workers.procs[-MOVERS:]
    workers.start()
    assert workers.results(movers) == [MOVES] * MOVERS
    workers.stop.touch()
    (seen,) = workers.results([reader])

    assert isinstance(seen, dict)
    assert seen["failures"] == 0, seen["bad"]
    assert seen["reads"] >= 50

    events = store.list_alias_events(scope, "shared", "production")
    assert len(events) == 1 + MOVERS * MOVES
    assert (events[0].previous, events[0].version) == (None, 1)
    for before, after in itertools.pairwise(events):
        assert after.previous == before.version
        assert after.version is not None
        assert after.time >= before.time
    current = store.get_version_by_alias(scope, "shared", "production")
    assert current.version == events[-1].version
    assert store.get_model(scope, "shared").aliases == {"production": current.version}
