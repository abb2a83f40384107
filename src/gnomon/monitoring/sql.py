"""SqlMonitorStore: monitors, their window results and alerts in the metadata database.

Each method is one transaction. Running a monitor takes a lease on its row first (an update
that only succeeds when nobody else holds an unexpired one), and its results are written
with the new watermark in one transaction guarded by that lease: two workers never evaluate
the same window twice, and a window is either stored with its watermark or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Row, and_, delete, or_, select, update

from gnomon._types import Scope, new_id, now_ms
from gnomon.errors import AlreadyExists, Conflict
from gnomon.monitoring.entities import Figure, Monitor, MonitorSpec, WindowResult, not_found
from gnomon.monitoring.tables import (
    alert_channels,
    alert_events,
    alert_rules,
    alert_silences,
    monitor_results,
    monitors,
)
from gnomon.store.database import Database

_m = monitors.c
_r = monitor_results.c
_ar = alert_rules.c
_ae = alert_events.c
_ac = alert_channels.c
_as = alert_silences.c


def dump(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqlMonitorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- monitors ---------------------------------------------------------------------------

    def create(self, scope: Scope, name: str, spec: MonitorSpec, state: dict[str, Any]) -> Monitor:
        now = now_ms()
        row: dict[str, Any] = {
            "id": new_id(),
            "workspace_id": scope.workspace,
            "name": name,
            "deployment": spec.deployment,
            "spec": dump(spec.to_dict()),
            "state": dump(state),
            "created_time": now,
            "created_by": scope.principal,
            "updated_time": now,
            "watermark_ms": None,
            "last_run_ms": None,
        }
        with self.db.write() as conn:
            if _find(conn, scope, name) is not None:
                raise AlreadyExists(f"monitor {name!r} already exists", {"name": name})
            conn.execute(monitors.insert().values(**row))
        return _monitor(row)

    def get(self, scope: Scope, name: str) -> Monitor:
        with self.db.read() as conn:
            return _monitor(_row(conn, scope, name)._mapping)

    def state(self, scope: Scope, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            found: dict[str, Any] = orjson.loads(_row(conn, scope, name).state)
            return found

    def list(self, scope: Scope) -> list[Monitor]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(monitors).where(_m.workspace_id == scope.workspace).order_by(_m.name)
            ).all()
        return [_monitor(row._mapping) for row in rows]

    def delete(self, scope: Scope, name: str) -> None:
        with self.db.write() as conn:
            found = _row(conn, scope, name)
            for table in (monitor_results, alert_rules, alert_events):
                conn.execute(delete(table).where(table.c.monitor_id == found.id))
            conn.execute(delete(monitors).where(_m.id == found.id))

    def due(self, now: int) -> list[tuple[str, str]]:
        """(workspace id, name) of every scheduled monitor whose next run is due."""
        with self.db.read() as conn:
            rows = conn.execute(select(_m.workspace_id, _m.name, _m.spec, _m.last_run_ms)).all()
        due = []
        for row in rows:
            every = orjson.loads(row.spec).get("schedule_s")
            if every and (row.last_run_ms is None or row.last_run_ms + every * 1000 <= now):
                due.append((row.workspace_id, row.name))
        return due

    def ran(self, scope: Scope, name: str) -> None:
        """Mark ``name`` as run now (a failed run too: its schedule moves on)."""
        with self.db.write() as conn:
            conn.execute(
                update(monitors)
                .where(_m.workspace_id == scope.workspace, _m.name == name)
                .values(last_run_ms=now_ms())
            )

    def workspace_name(self, scope: Scope) -> str:
        from gnomon.auth.tables import workspaces

        with self.db.read() as conn:
            found = conn.execute(
                select(workspaces.c.name).where(workspaces.c.id == scope.workspace)
            ).scalar()
        return str(found or scope.workspace)

    # -- leases and results ----------------------------------------------------------------

    def lease(self, scope: Scope, name: str, owner: str, seconds: float) -> bool:
        """Take the run lease of ``name`` for ``owner``: False while another holds one."""
        now = now_ms()
        with self.db.write() as conn:
            found = _row(conn, scope, name)
            taken = conn.execute(
                update(monitors)
                .where(
                    _m.id == found.id,
                    or_(
                        _m.lease_owner.is_(None),
                        _m.lease_until_ms < now,
                        _m.lease_owner == owner,
                    ),
                )
                .values(lease_owner=owner, lease_until_ms=now + int(seconds * 1000))
            ).rowcount
        return bool(taken)

    def release(self, scope: Scope, name: str, owner: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(monitors)
                .where(_m.workspace_id == scope.workspace, _m.name == name, _m.lease_owner == owner)
                .values(lease_owner=None, lease_until_ms=None)
            )

    def save_run(
        self,
        scope: Scope,
        monitor: Monitor,
        owner: str,
        windows: Sequence[WindowResult],
        watermark_ms: int | None,
        state: dict[str, Any] | None = None,
        rule_states: dict[str, dict[str, Any]] | None = None,
        events: Sequence[tuple[dict[str, Any], bool]] = (),
    ) -> list[str]:
        """Store ``windows``, move the watermark, and store the rules' new states and the
        events they raised (``(event, silenced)``; deliveries are added later by
        :meth:`set_deliveries`), only while ``owner`` holds the lease; the events' ids.

        Raises:
            Conflict: the lease was lost (expired and taken by another worker).
        """
        now = now_ms()
        values: dict[str, Any] = {"watermark_ms": watermark_ms, "last_run_ms": now}
        if state is not None:
            values["state"] = dump(state)
        ids: list[str] = []
        with self.db.write() as conn:
            held = conn.execute(
                update(monitors)
                .where(_m.id == monitor.id, _m.lease_owner == owner, _m.lease_until_ms >= now)
                .values(**values)
            ).rowcount
            if not held:
                raise Conflict(
                    f"monitor {monitor.name!r}: the run lease was lost before its results were "
                    "stored; another worker runs it",
                    {"name": monitor.name},
                )
            if windows:
                conn.execute(
                    monitor_results.insert(), [_result_row(monitor.id, w) for w in windows]
                )
            for rule, rule_state in (rule_states or {}).items():
                conn.execute(
                    update(alert_rules)
                    .where(_ar.monitor_id == monitor.id, _ar.name == rule)
                    .values(state=dump(rule_state))
                )
            for event, silenced in events:
                event_id = new_id()
                ids.append(event_id)
                conn.execute(
                    alert_events.insert().values(
                        id=event_id,
                        monitor_id=monitor.id,
                        rule=event["rule"],
                        kind=event["kind"],
                        value=_number(event.get("value")),
                        at_ms=event["at_ms"],
                        window_end_ms=event["window_end_ms"],
                        event=dump(event),
                        silenced=silenced,
                        deliveries="[]",
                    )
                )
        return ids

    def set_deliveries(self, event_id: str, deliveries: list[dict[str, Any]]) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(alert_events).where(_ae.id == event_id).values(deliveries=dump(deliveries))
            )

    def results(
        self, scope: Scope, name: str, since_ms: int | None = None, limit: int = 1000
    ) -> list[WindowResult]:
        """The newest ``limit`` windows (from ``since_ms`` on), oldest first."""
        with self.db.read() as conn:
            found = _row(conn, scope, name)
            query = select(monitor_results).where(_r.monitor_id == found.id)
            if since_ms is not None:
                query = query.where(_r.start_ms >= since_ms)
            rows = conn.execute(query.order_by(_r.start_ms.desc()).limit(limit)).all()
        return [_result(name, row) for row in reversed(rows)]

    def latest(self) -> list[tuple[str, Monitor, WindowResult | None, list[tuple[str, str]]]]:
        """Every monitor of every workspace, with its workspace's name, its newest window
        with rows, and its firing rules (name, severity): what Prometheus scrapes."""
        from gnomon.auth.tables import workspaces

        with self.db.read() as conn:
            names = dict(conn.execute(select(workspaces.c.id, workspaces.c.name)).all())
            rows = conn.execute(select(monitors)).all()
            out = []
            for row in rows:
                newest = conn.execute(
                    select(monitor_results)
                    .where(_r.monitor_id == row.id, _r.row_count > 0)
                    .order_by(_r.start_ms.desc())
                    .limit(1)
                ).first()
                result = None if newest is None else _result(row.name, newest)
                firing = []
                for rule in conn.execute(
                    select(_ar.spec, _ar.state).where(_ar.monitor_id == row.id)
                ).all():
                    if orjson.loads(rule.state).get("status") == "firing":
                        spec = orjson.loads(rule.spec)
                        firing.append((spec["name"], spec["severity"]))
                workspace = names.get(row.workspace_id, row.workspace_id)
                out.append((workspace, _monitor(row._mapping), result, firing))
        return out

    # -- alerts ------------------------------------------------------------------------------

    def put_rule(
        self, scope: Scope, monitor: str, name: str, spec: dict[str, Any], state: dict[str, Any]
    ) -> None:
        with self.db.write() as conn:
            found = _row(conn, scope, monitor)
            conn.execute(delete(alert_rules).where(_ar.monitor_id == found.id, _ar.name == name))
            conn.execute(
                alert_rules.insert().values(
                    monitor_id=found.id,
                    name=name,
                    spec=dump(spec),
                    state=dump(state),
                    created_time=now_ms(),
                    created_by=scope.principal,
                )
            )

    def rules(self, scope: Scope, monitor: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(spec, state) of each rule of ``monitor``, by name."""
        with self.db.read() as conn:
            found = _row(conn, scope, monitor)
            rows = conn.execute(
                select(_ar.spec, _ar.state).where(_ar.monitor_id == found.id).order_by(_ar.name)
            ).all()
        return [(orjson.loads(r.spec), orjson.loads(r.state)) for r in rows]

    def delete_rule(self, scope: Scope, monitor: str, name: str) -> None:
        with self.db.write() as conn:
            found = _row(conn, scope, monitor)
            gone = conn.execute(
                delete(alert_rules).where(_ar.monitor_id == found.id, _ar.name == name)
            ).rowcount
        if not gone:
            raise not_found("alert rule", name, monitor=monitor)

    def events(self, scope: Scope, monitor: str, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` alert events of ``monitor``, newest first."""
        with self.db.read() as conn:
            found = _row(conn, scope, monitor)
            rows = conn.execute(
                select(alert_events)
                .where(_ae.monitor_id == found.id)
                .order_by(_ae.at_ms.desc(), _ae.window_end_ms.desc(), _ae.id)
                .limit(limit)
            ).all()
        return [
            {
                "event": orjson.loads(r.event),
                "silenced": r.silenced,
                "deliveries": orjson.loads(r.deliveries),
            }
            for r in rows
        ]

    def fired_since(
        self, scope: Scope, monitor: str, since_ms: int, rule: str | None, limit: int
    ) -> Sequence[tuple[str, dict[str, Any]]]:
        """``(id, event)`` of the unsilenced firing events of ``monitor`` (of ``rule``, if
        given) raised at or after ``since_ms``, oldest first: what starts pipelines."""
        with self.db.read() as conn:
            found = _row(conn, scope, monitor)
            query = select(_ae.id, _ae.event).where(
                _ae.monitor_id == found.id,
                _ae.at_ms >= since_ms,
                _ae.kind == "fired",
                _ae.silenced.is_(False),
            )
            if rule is not None:
                query = query.where(_ae.rule == rule)
            rows = conn.execute(query.order_by(_ae.at_ms, _ae.id).limit(limit)).all()
        return [(r.id, orjson.loads(r.event)) for r in rows]

    def put_channel(self, scope: Scope, name: str, spec: dict[str, Any]) -> None:
        with self.db.write() as conn:
            conn.execute(
                delete(alert_channels).where(_ac.workspace_id == scope.workspace, _ac.name == name)
            )
            conn.execute(
                alert_channels.insert().values(
                    workspace_id=scope.workspace,
                    name=name,
                    spec=dump(spec),
                    created_time=now_ms(),
                    created_by=scope.principal,
                )
            )

    def channels(self, scope: Scope) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(_ac.spec).where(_ac.workspace_id == scope.workspace).order_by(_ac.name)
            ).all()
        return [orjson.loads(r.spec) for r in rows]

    def delete_channel(self, scope: Scope, name: str) -> None:
        with self.db.write() as conn:
            gone = conn.execute(
                delete(alert_channels).where(_ac.workspace_id == scope.workspace, _ac.name == name)
            ).rowcount
        if not gone:
            raise not_found("alert channel", name)

    def add_silence(self, scope: Scope, spec: dict[str, Any], ends_ms: int) -> str:
        silence_id = new_id()
        with self.db.write() as conn:
            conn.execute(
                alert_silences.insert().values(
                    id=silence_id,
                    workspace_id=scope.workspace,
                    spec=dump({**spec, "id": silence_id}),
                    ends_ms=ends_ms,
                    created_time=now_ms(),
                )
            )
        return silence_id

    def silences(self, scope: Scope, active_at: int | None = None) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            query = select(_as.spec).where(_as.workspace_id == scope.workspace)
            if active_at is not None:
                query = query.where(_as.ends_ms > active_at)
            rows = conn.execute(query.order_by(_as.created_time)).all()
        return [orjson.loads(r.spec) for r in rows]

    def delete_silence(self, scope: Scope, silence_id: str) -> None:
        with self.db.write() as conn:
            gone = conn.execute(
                delete(alert_silences).where(
                    and_(_as.workspace_id == scope.workspace, _as.id == silence_id)
                )
            ).rowcount
        if not gone:
            raise not_found("silence", silence_id)


def _find(conn: Connection, scope: Scope, name: str) -> Row[Any] | None:
    return conn.execute(
        select(monitors).where(_m.workspace_id == scope.workspace, _m.name == name)
    ).first()


def _row(conn: Connection, scope: Scope, name: str) -> Row[Any]:
    found = _find(conn, scope, name)
    if found is None:
        raise not_found("monitor", name)
    return found


def _monitor(row: Any) -> Monitor:
    return Monitor(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        spec=MonitorSpec.from_dict(orjson.loads(row["spec"])),
        created_time=row["created_time"],
        created_by=row["created_by"],
        updated_time=row["updated_time"],
        watermark_ms=row["watermark_ms"],
        last_run_ms=row["last_run_ms"],
    )


def _result_row(monitor_id: str, window: WindowResult) -> dict[str, Any]:
    return {
        "monitor_id": monitor_id,
        "start_ms": window.start_ms,
        "end_ms": window.end_ms,
        "row_count": window.rows,
        "figures": dump([f.to_list() for f in window.figures]),
        "details": dump(window.details),
        "computed_ms": window.computed_ms,
    }


def _result(name: str, row: Any) -> WindowResult:
    return WindowResult(
        monitor=name,
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        rows=row.row_count,
        figures=tuple(Figure.from_list(f) for f in orjson.loads(row.figures)),
        details=orjson.loads(row.details),
        computed_ms=row.computed_ms,
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


__all__ = ["SqlMonitorStore"]
