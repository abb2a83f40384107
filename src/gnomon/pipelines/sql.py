"""SqlPipelineStore: pipeline runs, step runs and their artifacts in the metadata database.

Step runs are written in batches (the runner flushes every few hundred milliseconds and at
the end), each batch one transaction; a step run and its artifacts land together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, desc, func, select, update

from gnomon._types import Scope, new_id, now_ms
from gnomon.errors import Conflict
from gnomon.pipelines.entities import (
    NewPipelineRun,
    PipelineRun,
    StepArtifact,
    StepRun,
    not_found,
)
from gnomon.pipelines.tables import pipeline_runs, step_artifacts, step_runs
from gnomon.store.database import Database

_p = pipeline_runs.c
_s = step_runs.c
_a = step_artifacts.c
_KEYS_PER_QUERY = 500
# what lineage reads of a step run: not its error, params or artifacts (each may be large)
_BARE = tuple(
    step_runs.c[name]
    for name in (
        *("id", "run_id", "node", "step", "status", "cache_key", "attempts"),
        *("started_ms", "ended_ms", "cached_from"),
    )
)


def dump(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqlPipelineStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_run(
        self, scope: Scope, new: NewPipelineRun, tracking_run_id: str | None
    ) -> PipelineRun:
        row: dict[str, Any] = {
            "id": new_id(),
            "workspace_id": scope.workspace,
            "pipeline": new.pipeline,
            "function": new.function,
            "spec": dump(new.spec),
            "params": dump(new.params),
            "status": "running",
            "executor": new.executor,
            "trigger": new.trigger,
            "tracking_run_id": tracking_run_id,
            "resumed_from": new.resumed_from,
            "error": None,
            "created_by": scope.principal,
            "started_ms": now_ms(),
            "ended_ms": None,
        }
        with self.db.write() as conn:
            conn.execute(pipeline_runs.insert().values(**row))
        return _run(row)

    def get_run(self, scope: Scope, run_id: str, spec: bool = True) -> PipelineRun:
        """The run; without its spec (up to megabytes of JSON) when ``spec`` is False."""
        with self.db.read() as conn:
            row = _find_run(conn, scope, run_id)
            return _run(row._mapping, spec=spec)

    def list_runs(self, scope: Scope, pipeline: str | None, limit: int) -> list[PipelineRun]:
        query = select(pipeline_runs).where(_p.workspace_id == scope.workspace)
        if pipeline is not None:
            query = query.where(_p.pipeline == pipeline)
        query = query.order_by(desc(_p.started_ms), desc(_p.id)).limit(limit)
        with self.db.read() as conn:
            return [_run(row._mapping, spec=False) for row in conn.execute(query)]

    def finish_run(self, scope: Scope, run_id: str, status: str, error: str | None) -> PipelineRun:
        with self.db.write() as conn:
            row = _find_run(conn, scope, run_id)
            if row.status != "running":
                raise Conflict(f"pipeline run {run_id} is already {row.status}")
            ended = now_ms()
            conn.execute(
                update(pipeline_runs)
                .where(_p.id == run_id)
                .values(status=status, error=error, ended_ms=ended)
            )
            return _run({**row._mapping, "status": status, "error": error, "ended_ms": ended})

    def add_steps(self, scope: Scope, run_id: str, steps: Sequence[StepRun]) -> None:
        if not steps:
            return
        step_rows, artifact_rows = [], []
        for step in steps:
            step_rows.append(
                {
                    "id": step.id,
                    "run_id": run_id,
                    "workspace_id": scope.workspace,
                    "node": step.node,
                    "step": step.step,
                    "status": step.status,
                    "cache_key": step.cache_key,
                    "cached_from": step.cached_from,
                    "attempts": step.attempts,
                    "started_ms": step.started_ms,
                    "ended_ms": step.ended_ms,
                    "error": dump(step.error) if step.error is not None else None,
                    "logs_digest": step.logs_digest,
                    "tracking_run_id": step.tracking_run_id,
                    "params": dump(step.params),
                }
            )
            for artifact in step.artifacts:
                artifact_rows.append(
                    {
                        "step_run_id": step.id,
                        "direction": artifact.direction,
                        "name": artifact.name,
                        "workspace_id": scope.workspace,
                        "digest": artifact.digest,
                        "kind": artifact.kind,
                        "type_name": artifact.type_name,
                        "size": artifact.size,
                        "preview": artifact.preview,
                        "link": artifact.link,
                    }
                )
        with self.db.write() as conn:
            row = _find_run(conn, scope, run_id)
            if row.status != "running":
                raise Conflict(f"pipeline run {run_id} is already {row.status}")
            conn.execute(step_runs.insert(), step_rows)
            if artifact_rows:
                conn.execute(step_artifacts.insert(), artifact_rows)

    def counts(self, run_id: str) -> tuple[int, int]:
        """How many steps, and artifacts of those steps, the run holds."""
        with self.db.read() as conn:
            steps = conn.execute(select(func.count()).where(_s.run_id == run_id)).scalar_one()
            ids = select(_s.id).where(_s.run_id == run_id)
            artifacts = conn.execute(
                select(func.count()).where(_a.step_run_id.in_(ids))
            ).scalar_one()
        return int(steps), int(artifacts)

    def check_new_steps(self, run_id: str, nodes: dict[str, str]) -> bool:
        """Whether the run already holds exactly these steps (``nodes``: id to node), as when
        a batch is sent again after its answer was lost; False when it holds none of them.

        Raises:
            Conflict: some id is taken, or some node recorded under another id.
        """
        ids = list(nodes)
        found = 0
        with self.db.read() as conn:
            for start in range(0, len(ids), _KEYS_PER_QUERY):
                chunk = ids[start : start + _KEYS_PER_QUERY]
                same_node = and_(_s.run_id == run_id, _s.node.in_([nodes[i] for i in chunk]))
                rows = conn.execute(
                    select(_s.id, _s.run_id, _s.node).where(_s.id.in_(chunk) | same_node)
                ).all()
                for row in rows:
                    if row.run_id != run_id or nodes.get(row.id) != row.node:
                        raise Conflict(
                            f"pipeline run {run_id} already has a step with one of these ids "
                            "or nodes: nothing was recorded"
                        )
                found += len(rows)
        if 0 < found < len(ids):
            raise Conflict(f"pipeline run {run_id} already has some of these steps")
        return found == len(ids) > 0

    def steps(
        self, scope: Scope, run_id: str, limit: int | None = None, artifacts: bool = True
    ) -> list[StepRun]:
        with self.db.read() as conn:
            _find_run(conn, scope, run_id)
            query = select(*(step_runs.c if artifacts else _BARE)).where(_s.run_id == run_id)
            rows = conn.execute(query.order_by(_s.started_ms, _s.node).limit(limit)).all()
            return _with_artifacts(conn, rows) if artifacts else _bare(rows)

    def step(self, scope: Scope, step_run_id: str, bare: bool = False) -> StepRun:
        """The step run with its artifacts; ``bare``: without its error and params."""
        columns = _BARE if bare else tuple(step_runs.c)
        with self.db.read() as conn:
            row = conn.execute(
                select(*columns).where(
                    and_(_s.id == step_run_id, _s.workspace_id == scope.workspace)
                )
            ).first()
            if row is None:
                raise not_found("step run", step_run_id)
            return _with_artifacts(conn, [row], bare=bare)[0]

    def cached(self, scope: Scope, keys: Sequence[str]) -> dict[str, StepRun]:
        """The latest step run that computed each key (succeeded, not itself a cache hit)."""
        found: dict[str, StepRun] = {}
        other = step_runs.alias("other")
        latest = (  # only the newest computation of a key is read, however many there were
            select(func.max(other.c.ended_ms))
            .where(
                and_(
                    other.c.workspace_id == scope.workspace,
                    other.c.cache_key == _s.cache_key,
                    other.c.status == "succeeded",
                )
            )
            .scalar_subquery()
        )
        with self.db.read() as conn:
            for start in range(0, len(keys), _KEYS_PER_QUERY):
                chunk = list(keys[start : start + _KEYS_PER_QUERY])
                rows = conn.execute(
                    select(step_runs)
                    .where(
                        and_(
                            _s.workspace_id == scope.workspace,
                            _s.cache_key.in_(chunk),
                            _s.status == "succeeded",
                            _s.ended_ms == latest,
                        )
                    )
                    .order_by(_s.ended_ms)
                ).all()
                for step in _with_artifacts(conn, rows):
                    assert step.cache_key is not None
                    found[step.cache_key] = step
        return found

    def recent_cache(self, scope: Scope, pipeline: str, runs: int) -> dict[str, StepRun]:
        """Cache entries of the pipeline's last ``runs`` runs, in one read: a re-run of an
        unchanged pipeline then asks the database nothing per step. A reused entry stands for
        the step run it came from."""
        recent = (
            select(_p.id)
            .where(and_(_p.workspace_id == scope.workspace, _p.pipeline == pipeline))
            .order_by(desc(_p.started_ms))
            .limit(runs)
        )
        wanted = and_(
            _s.run_id.in_(recent),
            _s.cache_key.is_not(None),
            _s.status.in_(("succeeded", "cached")),
        )
        with self.db.read() as conn:
            rows = conn.execute(select(step_runs).where(wanted).order_by(_s.ended_ms)).all()
            # the artifacts by a subquery, not by a list of ids: no thousand bound parameters
            ids = select(_s.id).where(wanted)
            steps = _with_artifacts(
                conn, rows, select(step_artifacts).where(_a.step_run_id.in_(ids))
            )
        return {step.cache_key: step for step in steps if step.cache_key is not None}

    def artifact(self, scope: Scope, digest: str) -> StepArtifact | None:
        """One step artifact of the workspace with this digest (an output before an input)."""
        query = (
            select(step_artifacts)
            .where(and_(_a.workspace_id == scope.workspace, _a.digest == digest))
            .order_by(desc(_a.direction == "out"))
            .limit(1)
        )
        with self.db.read() as conn:
            a = conn.execute(query).first()
        if a is None:
            return None
        return StepArtifact(
            a.name, a.direction, a.digest, a.kind, a.type_name, a.size, a.preview, a.link
        )

    # Lineage's neighbours: step runs without their artifacts, at most 1,000 each.

    def producers(self, scope: Scope, digests: Sequence[str]) -> list[StepRun]:
        """Step runs that computed any of ``digests`` (a cache hit links to its source)."""
        return self._by_artifact(scope, _a.digest.in_(list(digests)), "out", computed=True)

    def consumers(self, scope: Scope, digests: Sequence[str]) -> list[StepRun]:
        """Step runs that ran on any of ``digests`` (a cache hit stands for its source)."""
        return self._by_artifact(scope, _a.digest.in_(list(digests)), "in", computed=True)

    def by_link(self, scope: Scope, link: str, direction: str) -> list[StepRun]:
        return self._by_artifact(scope, _a.link == link, direction, computed=True)

    def _by_artifact(
        self, scope: Scope, condition: Any, direction: str, computed: bool = False
    ) -> list[StepRun]:
        with self.db.read() as conn:
            ids = select(_a.step_run_id).where(
                and_(_a.workspace_id == scope.workspace, _a.direction == direction, condition)
            )
            query = select(*_BARE).where(_s.id.in_(ids))
            if computed:  # ran, successfully or not (a failed step still read its inputs)
                ran = ("succeeded",) if direction == "out" else ("succeeded", "failed")
                query = query.where(_s.status.in_(ran))
            # without artifacts: a thousand steps of ten thousand each would be ten million
            return _bare(conn.execute(query.order_by(_s.started_ms).limit(1000)).all())


def _find_run(conn: Connection, scope: Scope, run_id: str) -> Row[Any]:
    row = conn.execute(
        select(pipeline_runs).where(and_(_p.id == run_id, _p.workspace_id == scope.workspace))
    ).first()
    if row is None:
        raise not_found("pipeline run", run_id)
    return row


def _run(row: Any, spec: bool = True) -> PipelineRun:
    return PipelineRun(
        id=row["id"],
        pipeline=row["pipeline"],
        function=row["function"],
        params=orjson.loads(row["params"]),
        status=row["status"],
        executor=row["executor"],
        tracking_run_id=row["tracking_run_id"],
        created_by=row["created_by"],
        started_ms=row["started_ms"],
        ended_ms=row["ended_ms"],
        resumed_from=row["resumed_from"],
        trigger=row["trigger"],
        error=row["error"],
        spec=orjson.loads(row["spec"]) if spec else {},
    )


def _bare(
    rows: Sequence[Row[Any]], artifacts: dict[str, list[StepArtifact]] | None = None
) -> list[StepRun]:
    """The step runs of ``rows`` (of the ``_BARE`` columns): no error or params."""
    found = artifacts or {}
    return [
        StepRun(
            r.id,
            r.run_id,
            r.node,
            r.step,
            r.status,
            r.cache_key,
            r.attempts,
            r.started_ms,
            r.ended_ms,
            r.cached_from,
            artifacts=tuple(sorted(found.get(r.id, []), key=lambda a: (a.direction, a.name))),
        )
        for r in rows
    ]


def _with_artifacts(
    conn: Connection, rows: Sequence[Row[Any]], query: Any | None = None, bare: bool = False
) -> list[StepRun]:
    """The step runs of ``rows`` with their artifacts (read by ``query`` when given)."""
    artifacts: dict[str, list[StepArtifact]] = {}
    ids = [row.id for row in rows]
    queries = (
        [query]
        if query is not None
        else [
            select(step_artifacts).where(_a.step_run_id.in_(ids[i : i + _KEYS_PER_QUERY]))
            for i in range(0, len(ids), _KEYS_PER_QUERY)
        ]
    )
    for statement in queries:
        for a in conn.execute(statement):
            artifacts.setdefault(a.step_run_id, []).append(
                StepArtifact(
                    a.name, a.direction, a.digest, a.kind, a.type_name, a.size, a.preview, a.link
                )
            )
    return _bare(rows, artifacts) if bare else _steps(rows, artifacts)


def _steps(rows: Sequence[Row[Any]], artifacts: dict[str, list[StepArtifact]]) -> list[StepRun]:
    return [
        StepRun(
            id=row.id,
            run_id=row.run_id,
            node=row.node,
            step=row.step,
            status=row.status,
            cache_key=row.cache_key,
            attempts=row.attempts,
            started_ms=row.started_ms,
            ended_ms=row.ended_ms,
            cached_from=row.cached_from,
            error=orjson.loads(row.error) if row.error else None,
            logs_digest=row.logs_digest,
            tracking_run_id=row.tracking_run_id,
            params=orjson.loads(row.params),
            artifacts=tuple(sorted(artifacts.get(row.id, []), key=lambda a: (a.direction, a.name))),
        )
        for row in rows
    ]


__all__ = ["SqlPipelineStore"]
