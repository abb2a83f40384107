"""Racing writers, on SQLite and on PostgreSQL: where one value may win, exactly one does.

- A param is written once: of writers logging different values for one key at the same
  moment, one gets its value stored and every other gets ``Conflict`` (409), through the
  store and through the server. Writers of the same value all succeed.
- Concurrent wrong-password logins cannot all slip past the rate limit: exactly five for a
  name, or twenty from an address, are checked, the rest are refused (429) without their
  password being hashed; concurrent right-password logins from one address all succeed.

Registry version numbers and alias moves under concurrency are covered, on both databases,
by ``test_registry_concurrency.py``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from gnomon._types import Scope, now_ms
from gnomon.auth.entities import Principal
from gnomon.auth.login import MAX_FAILURES, MAX_FAILURES_PER_ADDRESS
from gnomon.auth.passwords import Passwords
from gnomon.errors import Conflict, GnomonError
from gnomon.store.database import Database
from gnomon.tracking.entities import NewRun, RunData
from gnomon.tracking.sql import SqlTrackingStore
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.own_server import KINDS, own_auth_server
from tests.fixtures.server import ADMIN_PASSWORD, LiveServer

WRITERS = 8
ROUNDS = 5  # several keys per test: one lucky interleaving must not hide a lost race

T = TypeVar("T")


def race(count: int, action: Callable[[int], T]) -> list[T | GnomonError]:
    """Run ``action(0..count-1)`` on as many threads, released together."""
    start = threading.Barrier(count)

    def one(i: int) -> T | GnomonError:
        start.wait()
        try:
            return action(i)
        except GnomonError as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def log_param(
    store: SqlTrackingStore, scope: Scope, run_id: str, key: str
) -> Callable[[int], None]:
    return lambda i: store.log_batch(scope, run_id, RunData(params={key: f"v{i}"}))


def post_param(http: httpx.Client, run_id: str, key: str) -> Callable[[int], httpx.Response]:
    return lambda i: http.post(f"/runs/{run_id}/batch", json={"params": {key: f"v{i}"}})


# -- params through the store ----------------------------------------------------------------


@pytest.fixture(params=KINDS)
def tracking(request: pytest.FixtureRequest) -> Iterator[tuple[SqlTrackingStore, Scope, str]]:
    """A store, a workspace and a RUNNING run in it."""
    if request.param == "sqlite":
        db = Database(request.getfixturevalue("sqlite_uri"))
        scope = Scope(principal="tester")
    else:
        db = request.getfixturevalue("postgres_db")
        scope = fresh_workspace(db)
    store = SqlTrackingStore(db)
    experiment = store.create_experiment(scope, "race", "/tmp/gnomon-race")
    run = store.create_run(scope, NewRun(experiment.id, "racer", "tester", now_ms()))
    yield store, scope, run.id
    if request.param == "sqlite":
        db.dispose()


def test_one_of_many_writers_of_a_param_wins(
    tracking: tuple[SqlTrackingStore, Scope, str],
) -> None:
    store, scope, run_id = tracking
    for round_ in range(ROUNDS):
        key = f"lr-{round_}"
        outcomes = race(WRITERS, log_param(store, scope, run_id, key))
        winners = [i for i, outcome in enumerate(outcomes) if outcome is None]
        losers = [outcome for outcome in outcomes if outcome is not None]
        assert len(winners) == 1, outcomes
        assert all(isinstance(lost, Conflict) for lost in losers), losers
        assert store.get_run(scope, run_id).params[key] == f"v{winners[0]}"


def test_writers_of_the_same_param_value_all_succeed(
    tracking: tuple[SqlTrackingStore, Scope, str],
) -> None:
    store, scope, run_id = tracking
    data = RunData(params={"seed": "42", "layers": "3"})
    assert race(WRITERS, lambda _: store.log_batch(scope, run_id, data)) == [None] * WRITERS
    assert store.get_run(scope, run_id).params == {"seed": "42", "layers": "3"}


# -- params through the server ---------------------------------------------------------------


@pytest.fixture(params=KINDS)
def open_live(request: pytest.FixtureRequest) -> LiveServer:
    name = "open_server" if request.param == "sqlite" else "open_server_postgres"
    live: LiveServer = request.getfixturevalue(name)
    return live


def test_one_of_many_clients_setting_a_param_wins(open_live: LiveServer) -> None:
    assert open_live.services.database is not None
    workspace = fresh_workspace(open_live.services.database).workspace
    headers = {"X-Gnomon-Workspace": workspace}
    with httpx.Client(base_url=f"{open_live.url}/api/v1", headers=headers, timeout=30) as http:
        experiment = http.post("/experiments", json={"name": "race"}).json()
        run = http.post("/runs", json={"experiment_id": experiment["id"]}).json()
        for round_ in range(ROUNDS):
            key = f"lr-{round_}"
            outcomes = race(WRITERS, post_param(http, run["id"], key))
            responses = [r for r in outcomes if isinstance(r, httpx.Response)]
            statuses = [r.status_code for r in responses]
            assert sorted(statuses) == [204] + [409] * (WRITERS - 1), statuses
            winner = statuses.index(204)
            losers = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
            assert losers == ["conflict"] * (WRITERS - 1)
            stored = http.get(f"/runs/{run['id']}").json()["params"]
            assert stored[key] == f"v{winner}"


# -- the login rate limit --------------------------------------------------------------------


@pytest.fixture(params=KINDS)
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    with own_auth_server(request.param, request, tmp_path) as live:
        yield live


def test_concurrent_password_guesses_cannot_pass_the_limit(own_server: LiveServer) -> None:
    auth = own_server.services.auth
    assert auth is not None
    name = f"victim-{uuid.uuid4().hex[:8]}"
    auth.create_user(Principal("root", "root", is_admin=True), name, "right-password")
    login = f"{own_server.url}/api/v1/auth/login"

    with httpx.Client(timeout=60) as http:
        guesses = race(
            25, lambda i: http.post(login, json={"username": name, "password": f"guess-{i}"})
        )
        statuses = [g.status_code for g in guesses if isinstance(g, httpx.Response)]
        # Five guesses reached the password check; the other twenty never did.
        assert sorted(statuses) == [401] * MAX_FAILURES + [429] * (25 - MAX_FAILURES)
        refused = [g for g in guesses if isinstance(g, httpx.Response) and g.status_code == 429]
        assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
        assert all(r.json()["error"]["code"] == "rate_limited" for r in refused)

        # The right password is refused too while the limit holds.
        right = http.post(login, json={"username": name, "password": "right-password"})
        assert right.status_code == 429
        assert right.json()["error"]["details"]["retry_after"] == int(right.headers["Retry-After"])

    admin = Principal("root", "root", is_admin=True)
    failed = auth.list_audit(admin, action="login_failed", actor=name)
    assert len(failed.items) == MAX_FAILURES  # one event per checked guess, none per refusal


def test_concurrent_guesses_at_many_names_cannot_pass_the_address_limit(
    own_server: LiveServer,
) -> None:
    auth = own_server.services.auth
    assert auth is not None
    # Twenty full-cost hashes would take seconds on a small machine; the count being
    # atomic, not the hash being slow, is what keeps the guesses to the limit.
    auth.passwords = Passwords(PasswordHasher.from_parameters(CHEAPEST))
    login = f"{own_server.url}/api/v1/auth/login"
    guesses = MAX_FAILURES_PER_ADDRESS + 5
    with httpx.Client(timeout=60) as http:
        answers = race(
            guesses,
            lambda i: http.post(login, json={"username": f"ghost-{i}", "password": "guess"}),
        )
        statuses = [a.status_code for a in answers if isinstance(a, httpx.Response)]
        assert sorted(statuses) == [401] * MAX_FAILURES_PER_ADDRESS + [429] * 5
        # The address is now locked, for the right password of a real user too.
        right = http.post(login, json={"username": "admin", "password": ADMIN_PASSWORD})
        assert right.status_code == 429


def test_concurrent_right_passwords_from_one_address_all_log_in(own_server: LiveServer) -> None:
    auth = own_server.services.auth
    assert auth is not None
    names = ["alice", "bob", "mallory"]
    for name in names:
        auth.create_user(Principal("root", "root", is_admin=True), name, f"{name}-password")
    login = f"{own_server.url}/api/v1/auth/login"
    # More at once than one name may fail (the attack sent nine): in flight, each counts
    # toward the address limit until its password proves right. Full-cost hashes keep
    # them in flight together.
    attempts = 3 * len(names)
    assert attempts > MAX_FAILURES

    def log_in(i: int) -> httpx.Response:
        name = names[i % len(names)]
        return http.post(login, json={"username": name, "password": f"{name}-password"})

    with httpx.Client(timeout=60) as http:
        statuses = [a.status_code for a in race(attempts, log_in) if isinstance(a, httpx.Response)]
    assert statuses == [200] * attempts, statuses
