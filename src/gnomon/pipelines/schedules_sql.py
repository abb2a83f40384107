"""SqlScheduleStore: schedules and their ticks in the metadata database.

A tick is claimed by inserting its row: ``(schedule_id, tick)`` is the primary key, so of
any number of workers racing for one tick exactly one inserts it and runs it; the others
get a conflict and move on. The schedule's cursors (``next_ms``, ``seen_version``,
``seen_alert_ms``) only ever move forward, so a worker that read them late cannot move them
back; they save work, and the tick rows, not they, decide what runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import orjson
from sqlalchemy import and_, delete, desc, or_, select, update

from gnomon._types import Scope, new_id
from gnomon.errors import AlreadyExists
from gnomon.pipelines.entities import not_found
from gnomon.pipelines.schedule_entities import NewSchedule, Schedule, Tick
from gnomon.pipelines.tables import pipeline_schedules, schedule_ticks
from gnomon.store.database import Database

_c = pipeline_schedules.c
_t = schedule_ticks.c
CURSORS = ("next_ms", "seen_version", "seen_alert_ms")
Claim = Literal["won", "taken", "closed"]


class SqlScheduleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, scope: Scope, new: NewSchedule, cursors: dict[str, int | None], now: int
    ) -> Schedule:
        row: dict[str, Any] = {
            "id": new_id(),
            "workspace_id": scope.workspace,
            "name": new.name,
            "pipeline": new.pipeline,
            "params": orjson.dumps(new.params).decode(),
            "cron": new.cron,
            "timezone": new.timezone,
            "dataset": new.dataset,
            "monitor": new.monitor,
            "alert_rule": new.alert_rule,
            "catchup": new.catchup,
            "executor": new.executor,
            "paused": False,
            "created_by": scope.principal,
            "created_time": now,
            **{name: cursors.get(name) for name in CURSORS},
        }
        try:
            with self.db.write() as conn:
                conn.execute(pipeline_schedules.insert().values(**row))
        except AlreadyExists:
            raise AlreadyExists(
                f"schedule {new.name!r} already exists", {"schedule": new.name}
            ) from None
        return _schedule(row)

    def get(self, scope: Scope, name: str) -> Schedule:
        with self.db.read() as conn:
            row = conn.execute(
                select(pipeline_schedules).where(
                    _c.workspace_id == scope.workspace, _c.name == name
                )
            ).first()
        if row is None:
            raise not_found("schedule", name)
        return _schedule(row._mapping)

    def active(self) -> list[Schedule]:
        """Every workspace's schedules that are not paused (the worker's rounds)."""
        query = select(pipeline_schedules).where(_c.paused.is_(False))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(_c.workspace_id, _c.name)).all()
        return [_schedule(r._mapping) for r in rows]

    def set_paused(
        self, scope: Scope, name: str, paused: bool, cursors: dict[str, int | None]
    ) -> Schedule:
        """Pause or resume ``name``; ``cursors`` are set as given (resuming skips a period)."""
        with self.db.write() as conn:
            done = conn.execute(
                update(pipeline_schedules)
                .where(_c.workspace_id == scope.workspace, _c.name == name)
                .values(paused=paused, **cursors)
            ).rowcount
        if not done:
            raise not_found("schedule", name)
        return self.get(scope, name)

    def delete(self, scope: Scope, name: str) -> None:
        with self.db.write() as conn:
            gone = conn.execute(
                delete(pipeline_schedules).where(
                    _c.workspace_id == scope.workspace, _c.name == name
                )
            ).rowcount
        if not gone:
            raise not_found("schedule", name)

    def advance(self, schedule_id: str, cursor: str, value: int) -> None:
        """Move ``cursor`` forward to ``value`` (never back: another worker may be ahead)."""
        column = _c[cursor]
        with self.db.write() as conn:
            conn.execute(
                update(pipeline_schedules)
                .where(_c.id == schedule_id, or_(column.is_(None), column < value))
                .values({cursor: value})
            )

    def claim(
        self,
        schedule_id: str,
        tick: str,
        owner: str,
        now: int,
        status: str = "pending",
        message: str | None = None,
    ) -> Claim:
        """Insert the tick's row: ``won``; ``taken`` when another worker did first; ``closed``
        when the schedule was paused or deleted meanwhile."""
        row = {
            "schedule_id": schedule_id,
            "tick": tick,
            "status": status,
            "owner": owner,
            "pipeline_run_id": None,
            "message": message,
            "created_ms": now,
            "updated_ms": now,
        }
        try:
            with self.db.write() as conn:
                paused = conn.execute(
                    select(_c.paused).where(_c.id == schedule_id)
                ).scalar_one_or_none()
                if paused is None or paused:
                    return "closed"
                conn.execute(schedule_ticks.insert().values(**row))
        except AlreadyExists:  # the primary key: another worker holds this tick
            return "taken"
        return "won"

    def taken(self, schedule_id: str, ticks: Sequence[str]) -> set[str]:
        """Those of ``ticks`` that already have a row."""
        if not ticks:
            return set()
        with self.db.read() as conn:
            rows = conn.execute(
                select(_t.tick).where(_t.schedule_id == schedule_id, _t.tick.in_(list(ticks)))
            ).scalars()
            return set(rows)

    def update_tick(
        self,
        schedule_id: str,
        tick: str,
        now: int,
        *,
        status: str | None = None,
        run_id: str | None = None,
        message: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"updated_ms": now}
        if status is not None:
            values["status"] = status
        if run_id is not None:
            values["pipeline_run_id"] = run_id
        if message is not None:
            values["message"] = message[:20_000]
        with self.db.write() as conn:
            conn.execute(
                update(schedule_ticks)
                .where(and_(_t.schedule_id == schedule_id, _t.tick == tick))
                .values(**values)
            )

    def ticks(self, scope: Scope, name: str, limit: int) -> list[Tick]:
        """The newest ``limit`` ticks of ``name``, newest first."""
        schedule = self.get(scope, name)
        with self.db.read() as conn:
            rows = conn.execute(
                select(schedule_ticks)
                .where(_t.schedule_id == schedule.id)
                .order_by(desc(_t.created_ms), desc(_t.tick))
                .limit(limit)
            ).all()
        return [_tick(name, r) for r in rows]

    def list(self, scope: Scope) -> list[Schedule]:
        query = select(pipeline_schedules).where(_c.workspace_id == scope.workspace)
        with self.db.read() as conn:
            return [_schedule(r._mapping) for r in conn.execute(query.order_by(_c.name))]


def _schedule(row: Any) -> Schedule:
    return Schedule(
        id=row["id"],
        name=row["name"],
        pipeline=row["pipeline"],
        params=orjson.loads(row["params"]),
        cron=row["cron"],
        timezone=row["timezone"],
        dataset=row["dataset"],
        monitor=row["monitor"],
        alert_rule=row["alert_rule"],
        catchup=row["catchup"],
        executor=row["executor"],
        paused=bool(row["paused"]),
        next_ms=row["next_ms"],
        seen_version=row["seen_version"],
        seen_alert_ms=row["seen_alert_ms"],
        created_by=row["created_by"],
        created_time=row["created_time"],
        workspace=row["workspace_id"],
    )


def _tick(name: str, row: Any) -> Tick:
    return Tick(
        schedule=name,
        tick=row.tick,
        status=row.status,
        owner=row.owner,
        pipeline_run_id=row.pipeline_run_id,
        message=row.message,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
    )


__all__ = ["CURSORS", "Claim", "SqlScheduleStore"]
