"""SqlAuditStore: the audit log and the failed-login record over SQLite or PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from gnomon._types import Page, decode_offset_token, encode_offset_token
from gnomon.auth.entities import AuditEvent, AuditQuery, NewAuditEvent
from gnomon.auth.tables import audit_events, failed_logins
from gnomon.store.database import Database


class SqlAuditStore:
    """Audit events and failed logins in the metadata database; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, event: NewAuditEvent) -> AuditEvent:
        details = json.dumps(event.details, sort_keys=True)
        values = {
            "time": event.time,
            "actor": event.actor,
            "workspace_id": event.workspace_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "details": details,
            "address": event.address,
        }
        with self.db.write() as conn:
            insert = audit_events.insert().values(**values).returning(audit_events.c.id)
            event_id = conn.execute(insert).scalar_one()
        return AuditEvent(
            id=event_id,
            time=event.time,
            actor=event.actor,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            workspace_id=event.workspace_id,
            details=json.loads(details),  # a copy the caller cannot change
            address=event.address,
        )

    def list_events(self, query: AuditQuery) -> Page[AuditEvent]:
        offset = decode_offset_token(query.page_token)
        c = audit_events.c
        statement = select(audit_events).order_by(c.time.desc(), c.id.desc())
        for column, value in (
            (c.workspace_id, query.workspace_id),
            (c.actor, query.actor),
            (c.action, query.action),
            (c.object_type, query.object_type),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if query.since is not None:
            statement = statement.where(c.time >= query.since)
        if query.until is not None:
            statement = statement.where(c.time <= query.until)
        statement = statement.offset(offset).limit(query.max_results + 1)
        with self.db.read() as conn:
            rows = conn.execute(statement).all()
        items = [_to_event(row) for row in rows[: query.max_results]]
        more = len(rows) > query.max_results
        return Page(items, encode_offset_token(offset + query.max_results) if more else None)

    def record_failed_login(
        self, user_name: str, address: str | None, time: int, prune_before: int
    ) -> None:
        with self.db.write() as conn:
            conn.execute(failed_logins.delete().where(failed_logins.c.time < prune_before))
            conn.execute(
                failed_logins.insert().values(user_name=user_name, address=address, time=time)
            )

    def recent_failed_logins(
        self, user_name: str, address: str | None, since: int, limit: int
    ) -> tuple[list[int], list[int]]:
        c = failed_logins.c
        newest = select(c.time).where(c.time >= since).order_by(c.time.desc()).limit(limit)
        with self.db.read() as conn:
            by_user = list(conn.execute(newest.where(c.user_name == user_name)).scalars())
            by_address = (
                []
                if address is None
                else list(conn.execute(newest.where(c.address == address)).scalars())
            )
        return by_user, by_address

    def clear_failed_logins(self, user_name: str) -> None:
        with self.db.write() as conn:
            conn.execute(failed_logins.delete().where(failed_logins.c.user_name == user_name))


def _to_event(row: Any) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        time=row.time,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        workspace_id=row.workspace_id,
        details=json.loads(row.details),
        address=row.address,
    )
