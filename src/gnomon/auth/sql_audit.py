"""SqlAuditStore: the audit log and the failed-login record over SQLite or PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select, text

from gnomon._types import Page
from gnomon.auth.entities import AuditEvent, AuditQuery, LoginLimits, NewAuditEvent
from gnomon.auth.tables import audit_events, failed_logins
from gnomon.store.database import Database
from gnomon.store.paging import fetch_page

# PostgreSQL advisory lock keys: each "reserve" method holds its own for its transaction, so
# one caller's count and insert cannot interleave with another's (under READ COMMITTED both
# would count before either inserts). SQLite's BEGIN IMMEDIATE already serialises writers.
_FAILED_LOGINS_LOCK = 7236319101
_LIMITED_EVENTS_LOCK = 7236319102


class SqlAuditStore:
    """Audit events and failed logins in the metadata database; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, event: NewAuditEvent) -> AuditEvent:
        with self.db.write() as conn:
            return _insert(conn, event)

    def append_limited(self, event: NewAuditEvent, since: int, limit: int) -> list[int]:
        c = audit_events.c
        newest = (
            select(c.time)
            .where(c.action == event.action, _is(c.address, event.address), c.time >= since)
            .order_by(c.time.desc())
            .limit(limit)
        )
        with self.db.write() as conn:
            self._serialise(conn, _LIMITED_EVENTS_LOCK)
            times = list(conn.execute(newest).scalars())
            if len(times) < limit:
                _insert(conn, event)
        return times

    def list_events(self, query: AuditQuery) -> Page[AuditEvent]:
        c = audit_events.c
        statement = select(audit_events).order_by(c.time.desc(), c.id.desc())
        for column, value in (
            (c.workspace_id, query.workspace_id),
            (c.actor, query.actor),
            (c.action, query.action),
            (c.object_type, query.object_type),
            (c.address, query.address),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if query.since is not None:
            statement = statement.where(c.time >= query.since)
        if query.until is not None:
            statement = statement.where(c.time <= query.until)
        with self.db.read() as conn:
            rows, token = fetch_page(conn, statement, query.max_results, query.page_token)
        return Page([_to_event(row._mapping) for row in rows], token)

    def prune_events(self, before: int) -> int:
        with self.db.write() as conn:
            deleted = conn.execute(audit_events.delete().where(audit_events.c.time < before))
        return int(deleted.rowcount)

    def reserve_failed_login(
        self, user_name: str, address: str | None, time: int, limits: LoginLimits
    ) -> int | None:
        c = failed_logins.c
        keys = [(c.user_name == user_name, limits.per_user)]
        if address is not None:
            keys.append((c.address == address, limits.per_address))
        with self.db.write() as conn:
            self._serialise(conn, _FAILED_LOGINS_LOCK)
            conn.execute(failed_logins.delete().where(c.time < limits.since))
            if any(_count(conn, key, limits.since, limit) >= limit for key, limit in keys):
                return None
            insert = failed_logins.insert().values(user_name=user_name, address=address, time=time)
            return int(conn.execute(insert.returning(c.id)).scalar_one())

    def recent_failed_logins(
        self, user_name: str, address: str | None, limits: LoginLimits
    ) -> tuple[list[int], list[int]]:
        c = failed_logins.c
        newest = select(c.time).where(c.time >= limits.since).order_by(c.time.desc())
        with self.db.read() as conn:
            by_user = newest.where(c.user_name == user_name).limit(limits.per_user)
            times = list(conn.execute(by_user).scalars())
            if address is None:
                return times, []
            by_address = newest.where(c.address == address).limit(limits.per_address)
            return times, list(conn.execute(by_address).scalars())

    def release_failed_login(self, attempt_id: int) -> None:
        with self.db.write() as conn:
            conn.execute(failed_logins.delete().where(failed_logins.c.id == attempt_id))

    def _serialise(self, conn: Connection, key: int) -> None:
        if not self.db.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _insert(conn: Connection, event: NewAuditEvent) -> AuditEvent:
    values = {
        "time": event.time,
        "actor": event.actor,
        "workspace_id": event.workspace_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": json.dumps(event.details, sort_keys=True),
        "address": event.address,
    }
    insert = audit_events.insert().values(**values).returning(audit_events.c.id)
    event_id = conn.execute(insert).scalar_one()
    # Built from the stored JSON: the event's details are a copy the caller cannot change.
    return _to_event({**values, "id": event_id})


def _count(conn: Connection, key: ColumnElement[bool], since: int, limit: int) -> int:
    """How many failed logins match ``key`` since ``since``, counting no further than ``limit``."""
    c = failed_logins.c
    capped = select(c.id).where(key, c.time >= since).limit(limit).subquery()
    return int(conn.execute(select(func.count()).select_from(capped)).scalar_one())


def _is(column: Any, value: str | None) -> ColumnElement[bool]:
    result: ColumnElement[bool] = column.is_(None) if value is None else column == value
    return result


def _to_event(row: Mapping[Any, Any]) -> AuditEvent:  # a dict or a RowMapping
    return AuditEvent(
        id=row["id"],
        time=row["time"],
        actor=row["actor"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        workspace_id=row["workspace_id"],
        details=json.loads(row["details"]),
        address=row["address"],
    )
