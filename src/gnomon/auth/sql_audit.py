"""SqlAuditStore: the audit log and the failed-login record over SQLite or PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from gnomon._types import Page
from gnomon.auth.entities import AuditEvent, AuditQuery, NewAuditEvent
from gnomon.auth.tables import audit_events, failed_logins
from gnomon.store.database import Database
from gnomon.store.paging import fetch_page


class SqlAuditStore:
    """Audit events and failed logins in the metadata database; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, event: NewAuditEvent) -> AuditEvent:
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
        with self.db.write() as conn:
            insert = audit_events.insert().values(**values).returning(audit_events.c.id)
            event_id = conn.execute(insert).scalar_one()
        # Built from the stored JSON: the event's details are a copy the caller cannot change.
        return _to_event({**values, "id": event_id})

    def list_events(self, query: AuditQuery) -> Page[AuditEvent]:
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
        with self.db.read() as conn:
            rows, token = fetch_page(conn, statement, query.max_results, query.page_token)
        return Page([_to_event(row._mapping) for row in rows], token)

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
