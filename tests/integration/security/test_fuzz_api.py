"""Property-based attacks on the API server: every operation in its ``/openapi.json``, called
by a global administrator inside a workspace, with a fixed and reproducible example budget.

No request may get a 5xx, nor a status, content type or body the spec does not document.
Three passes per operation: invalid data; valid data aimed at objects that exist (an
experiment, a fresh run, a model version, a deployment, a member and their token, named in
the path and in body fields), so it reaches the code behind the lookups rather than stopping
at a 404; and the same with one hostile value (past int64, NUL, a lone surrogate...) in each
request. PostgreSQL, which refuses values SQLite stores, gets the last two.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from gnomon._types import Scope
from gnomon.auth.entities import Principal, Role
from gnomon.registry.entities import NewVersion
from tests.fixtures.databases import PG_ADMIN
from tests.fixtures.server import LiveServer, serve, server_settings
from tests.integration.security.fuzz import (
    NEGATIVE,
    NO_ANSWER,
    AnyCase,
    Operation,
    Pass,
    Report,
    describe,
    fuzz,
    hostile,
)

BUDGET = 10  # requests per operation and pass: about 1,700 on SQLite, 1,300 on PostgreSQL
CHECKS = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": schemathesis.checks.status_code_conformance,
    "content_type_conformance": schemathesis.checks.content_type_conformance,
    "response_schema_conformance": schemathesis.checks.response_schema_conformance,
}
PASSWORD = "admin-password-123"

Objects = dict[str, Callable[[], str]]  # path parameter (or path prefix for ``name``) -> object


def _seed(live: LiveServer) -> tuple[str, Objects]:
    """An administrator's token, and objects the fuzzer can aim at, by path parameter."""
    auth, services = live.services.auth, live.services
    assert auth is not None and services.registry and services.deployments
    auth.bootstrap_admin(PASSWORD)
    root = Principal(auth.get_user("admin").id, "admin", is_admin=True)
    workspace = auth.create_workspace(root, "fuzz")
    auth.create_user(root, "someone", "password-123")
    auth.add_member(root, "fuzz", "someone", Role.EDITOR)
    _, their_token = auth.login("someone", "password-123")
    token, _ = auth.login("admin", PASSWORD)
    scope = Scope(workspace.id, "admin")
    experiment = services.tracking.create_experiment(scope, "fuzzed")
    services.registry.create_version(scope, "churn", NewVersion("import:c", "/tmp/c", "admin"))
    services.deployments.create(scope, "web", "churn/1")
    _seed_dataset(services, scope)
    _seed_monitor(services, scope)
    pipeline_run = _seed_pipeline(services, scope)
    objects: Objects = {
        "experiment_id": lambda: experiment.id,
        # A run of its own per operation: an earlier one may have finished or sealed its run.
        "run_id": lambda: services.tracking.create_run(scope, experiment.id).id,
        "version": lambda: "1",
        "user": lambda: "someone",
        "token_id": lambda: their_token.id,
        "/api/v1/models/": lambda: "churn",
        "/api/v1/deployments/": lambda: "web",
        "/api/v1/users/": lambda: "someone",
        "/api/v1/datasets/": lambda: "sales",
        "path": lambda: "t.csv",
        "/api/v1/monitors/": lambda: "watch",
        "rule": lambda: "high",
        # A run of its own per operation too: recording steps or finishing one changes it.
        "pipeline_run_id": pipeline_run,
        "ref": lambda: f"pipeline-run:{pipeline_run()}",  # lineage
    }
    return token, objects


def _seed_dataset(services: Any, scope: Scope) -> None:
    """Dataset ``sales``: version 1 of a CSV file ``t.csv``."""
    import tempfile

    from gnomon.data.service import DatasetService

    folder = Path(tempfile.mkdtemp(prefix="gnomon-fuzz-"))
    (folder / "t.csv").write_text("x,city\n1,Lyon\n2,Oslo\n")
    services.get(DatasetService).add(scope, folder, "sales")


def _seed_monitor(services: Any, scope: Scope) -> None:
    """Monitor ``watch`` of deployment ``web`` against ``sales@1``, with a rule ``high``
    (stored directly: the seeded model version has no files to take a contract from)."""
    from gnomon.monitoring.alert_rules import AlertState
    from gnomon.monitoring.entities import MonitorSpec, ReferenceSpec
    from gnomon.monitoring.service import MonitorService

    store = services.get(MonitorService).store
    spec = MonitorSpec("web", reference=ReferenceSpec("dataset", "sales@1"))
    columns = [{"name": "x", "dtype": "int64"}, {"name": "city", "dtype": "string"}]
    state = {"model": "churn", "version": 1, "reference": "sales@1", "columns": columns}
    store.create(scope, "watch", spec, state)
    rule = {
        "name": "high",
        "monitor": "watch",
        "figure": "drift.share",
        "op": ">",
        "threshold": 0.5,
        "for_windows": 1,
        "channels": [],
        "severity": "warning",
    }
    store.put_rule(scope, "watch", "high", rule, AlertState().to_dict())


def _seed_pipeline(services: Any, scope: Scope) -> Callable[[], str]:
    """A maker of fresh pipeline runs (in the fuzzed workspace)."""
    from gnomon.pipelines.entities import NewPipelineRun
    from gnomon.pipelines.service import PipelineService

    pipelines: PipelineService = services.get(PipelineService)

    def fresh() -> str:
        return pipelines.start_run(scope, NewPipelineRun("p", "m:f", {}, {}, "local")).id

    return fresh


def _existing(objects: Objects) -> Callable[[Operation], dict[str, str] | None]:
    """Path parameters naming real objects, where all are known; never for a deletion, so the
    objects last the whole run."""

    def parameters(operation: Operation) -> dict[str, str] | None:
        names = [p.name for p in operation.path_parameters]
        if not names or operation.method.upper() == "DELETE":
            return None
        prefix = next(
            (p for p in objects if p.startswith("/") and operation.path.startswith(p)), ""
        )
        known = {**objects, "name": objects[prefix]} if prefix else objects
        if not all(name in known for name in names):
            return None
        return {name: known[name]() for name in names}

    return parameters


def _naming_objects(objects: Objects) -> Callable[[AnyCase], AnyCase]:
    """Body fields that name an object (a run's experiment, a deployment's model, an alias's
    version) set to real ones, so creations get past their lookups."""
    fields: dict[str, Callable[[], Any]] = {
        "experiment_id": objects["experiment_id"],
        "model": lambda: "churn/1",
        "version": lambda: 1,
    }

    def prepare(case: AnyCase) -> AnyCase:
        if isinstance(case.body, dict):
            case.body = {k: fields[k]() if k in fields else v for k, v in case.body.items()}
        return case

    return prepare


def fuzz_server(live: LiveServer, invalid_data: bool) -> Report:
    token, objects = _seed(live)
    config = schemathesis.Config.from_dict(
        {
            "base-url": live.url,
            "headers": {"Authorization": f"Bearer {token}", "X-Gnomon-Workspace": "fuzz"},
        }
    )
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json", config=config)
    existing, naming = _existing(objects), _naming_objects(objects)
    aimed = (
        Pass("valid", GenerationMode.POSITIVE, lambda op: existing(op) or {}, naming),
        hostile("hostile", lambda op: existing(op) or {}, naming),
    )
    return fuzz(schema, CHECKS, ((NEGATIVE,) if invalid_data else ()) + aimed, BUDGET)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    """One fuzz run on SQLite, over a server of its own: the fuzzer creates and changes
    users, tokens and workspaces. PostgreSQL's run is ``test_fuzz_api_postgres.py``, a file
    of its own so that ``--dist loadfile`` runs the two side by side."""
    home: Path = tmp_path_factory.mktemp("fuzz-api-sqlite")
    with serve(server_settings(f"sqlite:///{home / 'gnomon.db'}", home)) as live:
        yield fuzz_server(live, invalid_data=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own: the session's is shared with servers that have other admins."""
    import psycopg

    from gnomon import backends

    admin = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    name = f"gnomon_fuzz_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield uri
    finally:
        database = backends._databases.pop(uri, None)
        if database is not None:
            database.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_no_request_gets_a_server_error(report: Report) -> None:
    findings = report.of("not_a_server_error", NO_ANSWER)
    assert not findings, describe(findings)


def test_every_status_answered_is_documented(report: Report) -> None:
    findings = report.of("status_code_conformance")
    assert not findings, describe(findings)


def test_every_answer_has_its_documented_content_type_and_schema(report: Report) -> None:
    findings = report.of("content_type_conformance", "response_schema_conformance")
    assert not findings, describe(findings)


def test_the_fuzzer_gets_past_authentication_and_lookups(report: Report) -> None:
    """Guards the tests above: a fuzzer stopped at 401 or 404 everywhere would prove nothing."""
    operations = {operation for operation, _ in report.statuses}
    answered = {operation for (operation, status) in report.statuses if 200 <= status < 300}
    assert len(answered) >= len(operations) // 2, sorted(operations - answered)
