"""SqlDeploymentStore: deployments in the metadata database (SQLAlchemy Core)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from gnomon._types import Scope, new_id, now_ms
from gnomon.deployments.entities import (
    Action,
    Deployment,
    DeploymentEvent,
    Routing,
    ServingConfig,
)
from gnomon.deployments.tables import deployment_events, deployments
from gnomon.errors import AlreadyExists, Conflict, NotFound
from gnomon.store.database import Database

_d = deployments.c
_e = deployment_events.c


class SqlDeploymentStore:
    """Every method is one transaction; a change is an update guarded by the revision read,
    so two operators changing one deployment at once cannot silently overwrite each other."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        scope: Scope,
        name: str,
        description: str,
        routing: Routing,
        config: ServingConfig,
    ) -> Deployment:
        now = now_ms()
        row: dict[str, Any] = {
            "id": new_id(),
            "workspace_id": scope.workspace,
            "name": name,
            "description": description,
            "routing": _dump(routing.to_dict()),
            "config": _dump(config.to_dict()),
            "revision": 1,
            "created_time": now,
            "updated_time": now,
            "created_by": scope.principal,
        }
        with self.db.write() as conn:
            taken = conn.execute(
                select(_d.id).where(_d.workspace_id == scope.workspace, _d.name == name)
            ).first()
            if taken is not None:
                raise AlreadyExists(f"deployment {name!r} already exists")
            conn.execute(deployments.insert().values(**row))
            _insert_event(conn, row["id"], 1, Action.CREATE, row, scope.principal, now, "")
        return _deployment(row)

    def get(self, scope: Scope, name: str) -> Deployment:
        with self.db.read() as conn:
            return _deployment(_row(conn, scope, name)._mapping)

    def change(
        self,
        scope: Scope,
        name: str,
        expected_revision: int,
        action: Action,
        routing: Routing,
        config: ServingConfig,
        description: str,
        note: str = "",
    ) -> Deployment:
        now = now_ms()
        values = {
            "routing": _dump(routing.to_dict()),
            "config": _dump(config.to_dict()),
            "description": description,
            "revision": expected_revision + 1,
            "updated_time": now,
        }
        with self.db.write() as conn:
            current = _row(conn, scope, name)
            done = conn.execute(
                update(deployments)
                .where(_d.id == current.id, _d.revision == expected_revision)
                .values(**values)
            )
            if done.rowcount != 1:
                raise Conflict(
                    f"deployment {name!r} changed meanwhile (now at revision "
                    f"{current.revision}, expected {expected_revision}); read it and try again"
                )
            _insert_event(
                conn, current.id, expected_revision + 1, action, values, scope.principal, now, note
            )
        return _deployment({**current._mapping, **values})

    def events(self, scope: Scope, name: str) -> list[DeploymentEvent]:
        with self.db.read() as conn:
            current = _row(conn, scope, name)
            rows = conn.execute(
                select(deployment_events)
                .where(_e.deployment_id == current.id)
                .order_by(_e.revision)
            ).all()
        return [_event(name, row) for row in rows]

    def event(self, scope: Scope, name: str, revision: int) -> DeploymentEvent:
        with self.db.read() as conn:
            current = _row(conn, scope, name)
            row = conn.execute(
                select(deployment_events).where(
                    _e.deployment_id == current.id, _e.revision == revision
                )
            ).first()
        if row is None:
            raise NotFound(f"deployment {name!r} has no revision {revision}")
        return _event(name, row)

    def delete(self, scope: Scope, name: str) -> None:
        with self.db.write() as conn:
            current = _row(conn, scope, name)
            conn.execute(delete(deployment_events).where(_e.deployment_id == current.id))
            conn.execute(delete(deployments).where(_d.id == current.id))

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self, scope: Scope) -> list[Deployment]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(deployments).where(_d.workspace_id == scope.workspace).order_by(_d.name)
            ).all()
        return [_deployment(row._mapping) for row in rows]


def _row(conn: Connection, scope: Scope, name: str) -> Row[Any]:
    row = conn.execute(
        select(deployments).where(_d.workspace_id == scope.workspace, _d.name == name)
    ).first()
    if row is None:
        raise NotFound(f"deployment {name!r} not found")
    return row


def _insert_event(
    conn: Connection,
    deployment_id: str,
    revision: int,
    action: Action,
    values: dict[str, Any],
    actor: str,
    time: int,
    note: str,
) -> None:
    conn.execute(
        deployment_events.insert().values(
            deployment_id=deployment_id,
            revision=revision,
            action=action.value,
            routing=values["routing"],
            config=values["config"],
            actor=actor,
            time=time,
            note=note,
        )
    )


def _event(deployment: str, row: Row[Any]) -> DeploymentEvent:
    return DeploymentEvent(
        deployment=deployment,
        revision=row.revision,
        action=Action(row.action),
        routing=Routing.from_dict(json.loads(row.routing)),
        config=ServingConfig.from_dict(json.loads(row.config)),
        actor=row.actor,
        time=row.time,
        note=row.note,
    )


def _deployment(row: Mapping[Any, Any]) -> Deployment:  # a dict or a RowMapping
    return Deployment(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        description=row["description"],
        routing=Routing.from_dict(json.loads(row["routing"])),
        config=ServingConfig.from_dict(json.loads(row["config"])),
        revision=row["revision"],
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        created_by=row["created_by"],
    )


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
