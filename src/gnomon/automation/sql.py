"""SqlAutomationStore: policies (and their versions), firings, rollouts and decisions.

Two unique indexes carry the loop's promises (see ``tables.py``): one open firing per
model, one running rollout per deployment. A rollout is stepped by the worker holding its
lease; each step's decision and the rollout's new state are written in one transaction that
only commits while the lease is still held.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import and_, delete, desc, func, or_, select, update

from gnomon._types import Scope, new_id
from gnomon.automation.entities import Decision, Firing, Plan, Rollout
from gnomon.automation.tables import decisions, firings, policies, policy_versions, rollouts
from gnomon.errors import AlreadyExists, Conflict, NotFound
from gnomon.store.database import Database

_p = policies.c
_v = policy_versions.c
_f = firings.c
_r = rollouts.c
_d = decisions.c
MAX_LISTED = 1000


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class SqlAutomationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- policies ----------------------------------------------------------------------------

    def create_policy(
        self, scope: Scope, name: str, schedule_id: str, spec: Mapping[str, Any], now: int
    ) -> dict[str, Any]:
        row = {
            "id": new_id(),
            "workspace_id": scope.workspace,
            "name": name,
            "schedule_id": schedule_id,
            "version": 1,
            "spec": _json(spec),
            "created_by": scope.principal,
            "created_time": now,
            "updated_time": now,
        }
        try:
            with self.db.write() as conn:
                conn.execute(policies.insert().values(**row))
                conn.execute(policy_versions.insert().values(**_version_row(row, "created")))
        except AlreadyExists:
            raise AlreadyExists(f"policy {name!r} already exists", {"policy": name}) from None
        return row

    def update_policy(
        self, scope: Scope, name: str, spec: Mapping[str, Any], note: str, now: int
    ) -> dict[str, Any]:
        with self.db.write() as conn:
            row = self._policy(conn, scope, name, lock=True)
            values = {"version": row["version"] + 1, "spec": _json(spec), "updated_time": now}
            conn.execute(update(policies).where(_p.id == row["id"]).values(**values))
            updated = {**row, **values, "created_by": scope.principal, "created_time": now}
            conn.execute(policy_versions.insert().values(**_version_row(updated, note)))
        return {**row, **values}

    def policy(self, scope: Scope, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            return self._policy(conn, scope, name)

    def _policy(self, conn: Any, scope: Scope, name: str, lock: bool = False) -> dict[str, Any]:
        query = select(policies).where(_p.workspace_id == scope.workspace, _p.name == name)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"policy {name!r} does not exist", {"policy": name})
        return dict(row._mapping)

    def policy_of_schedule(self, schedule_id: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(select(policies).where(_p.schedule_id == schedule_id)).first()
        return None if row is None else dict(row._mapping)

    def policies(self, scope: Scope) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(policies).where(_p.workspace_id == scope.workspace).order_by(_p.name)
            ).all()
        return [dict(r._mapping) for r in rows]

    def versions(self, scope: Scope, name: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            policy = self._policy(conn, scope, name)
            rows = conn.execute(
                select(policy_versions).where(_v.policy_id == policy["id"]).order_by(_v.version)
            ).all()
        return [dict(r._mapping) for r in rows]

    def delete_policy(self, scope: Scope, name: str) -> dict[str, Any]:
        """Delete the policy, its versions and its firings; the row as it was."""
        with self.db.write() as conn:
            policy = self._policy(conn, scope, name, lock=True)
            open_firing = conn.execute(
                select(_f.id).where(_f.policy_id == policy["id"], _f.in_flight.is_not(None))
            ).first()
            if open_firing is not None:
                raise Conflict(
                    f"policy {name!r} has a retraining in flight; abort its rollout first",
                    {"policy": name},
                )
            conn.execute(delete(firings).where(_f.policy_id == policy["id"]))
            conn.execute(delete(policy_versions).where(_v.policy_id == policy["id"]))
            conn.execute(delete(policies).where(_p.id == policy["id"]))
        return policy

    # -- firings -----------------------------------------------------------------------------

    def open_firing(
        self, workspace: str, policy: Mapping[str, Any], model: str, tick: str, now: int
    ) -> Firing:
        """A new open firing; ``AlreadyExists`` while the model has another one open."""
        row = {
            "id": new_id(),
            "workspace_id": workspace,
            "policy_id": policy["id"],
            "policy_version": policy["version"],
            "tick": tick[:200],
            "model": model,
            "in_flight": 1,
            "status": "retraining",
            "started_ms": now,
            "updated_ms": now,
        }
        with self.db.write() as conn:
            conn.execute(firings.insert().values(**row))
        return self.firing(row["id"])

    def open_firing_of(self, workspace: str, model: str) -> Firing | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(firings, _p.name.label("policy_name"))
                .join(policies, _p.id == _f.policy_id)
                .where(_f.workspace_id == workspace, _f.model == model, _f.in_flight.is_not(None))
            ).first()
        return None if row is None else _firing(row._mapping)

    def last_started(self, policy_id: str) -> int | None:
        with self.db.read() as conn:
            return conn.execute(
                select(func.max(_f.started_ms)).where(_f.policy_id == policy_id)
            ).scalar_one_or_none()

    def update_firing(self, firing_id: str, now: int, **values: Any) -> Firing:
        """Set ``values`` (gate and risk as dicts); a status that ends it closes it."""
        from gnomon.automation.entities import ENDED_FIRINGS

        changes = dict(values)
        for key in ("gate", "risk"):
            if changes.get(key) is not None:
                changes[key] = _json(changes[key])
        if "message" in changes and changes["message"] is not None:
            changes["message"] = str(changes["message"])[:20_000]
        if changes.get("status") in ENDED_FIRINGS:
            changes["in_flight"] = None
        with self.db.write() as conn:
            conn.execute(
                update(firings).where(_f.id == firing_id).values(updated_ms=now, **changes)
            )
        return self.firing(firing_id)

    def firing(self, firing_id: str) -> Firing:
        with self.db.read() as conn:
            row = conn.execute(
                select(firings, _p.name.label("policy_name"))
                .join(policies, _p.id == _f.policy_id)
                .where(_f.id == firing_id)
            ).first()
        if row is None:
            raise NotFound(f"firing {firing_id!r} does not exist")
        return _firing(row._mapping)

    def firings(self, scope: Scope, name: str, limit: int) -> list[Firing]:
        with self.db.read() as conn:
            policy = self._policy(conn, scope, name)
            rows = conn.execute(
                select(firings, _p.name.label("policy_name"))
                .join(policies, _p.id == _f.policy_id)
                .where(_f.policy_id == policy["id"])
                .order_by(desc(_f.started_ms), desc(_f.id))
                .limit(limit)
            ).all()
        return [_firing(r._mapping) for r in rows]

    # -- rollouts ----------------------------------------------------------------------------

    def insert_rollout(
        self,
        scope: Scope,
        deployment: str,
        model: str,
        candidate: int,
        champion: int | None,
        risk: Mapping[str, Any],
        plan: Plan,
        firing_id: str | None,
        now: int,
        decision: Decision,
    ) -> Rollout:
        row = {
            "id": new_id(),
            "workspace_id": scope.workspace,
            "deployment": deployment,
            "model": model,
            "candidate_version": candidate,
            "champion_version": champion,
            "firing_id": firing_id,
            "risk": _json(dict(risk)),
            "plan": _json(plan.to_dict()),
            "stage": 0,
            "state": "running",
            "active": 1,
            "stage_started_ms": now,
            "extensions": 0,
            "created_by": scope.principal,
            "created_ms": now,
            "updated_ms": now,
        }
        try:
            with self.db.write() as conn:
                conn.execute(rollouts.insert().values(**row))
                conn.execute(decisions.insert().values(**_decision_row(row["id"], decision)))
        except AlreadyExists:
            raise Conflict(
                f"deployment {deployment!r} has a rollout running; let it end or abort it",
                {"deployment": deployment},
            ) from None
        return self.rollout(row["id"])

    def rollout(
        self, rollout_id: str, scope: Scope | None = None, newest: int | None = None
    ) -> Rollout:
        """The rollout with its decisions; given ``newest``, only that many of the newest and
        every one that is not an extension (a rollout short of answers records one each
        hold, for weeks: those between are what is left out)."""
        query = select(rollouts).where(_r.id == rollout_id)
        if scope is not None:
            query = query.where(_r.workspace_id == scope.workspace)
        found = self._rollouts(query, newest)
        if not found:
            raise NotFound(f"rollout {rollout_id!r} does not exist", {"rollout": rollout_id})
        return found[0]

    def rollouts(
        self, scope: Scope, deployment: str | None, limit: int, newest: int | None = None
    ) -> list[Rollout]:
        query = select(rollouts).where(_r.workspace_id == scope.workspace)
        if deployment is not None:
            query = query.where(_r.deployment == deployment)
        return self._rollouts(query.order_by(desc(_r.created_ms), desc(_r.id)).limit(limit), newest)

    def _rollouts(self, query: Any, newest: int | None) -> list[Rollout]:
        """The rollouts ``query`` selects, in its order, with their decisions (as
        :meth:`rollout` keeps them): two queries, however many rollouts."""
        with self.db.read() as conn:
            rows = conn.execute(query).all()
            wanted = select(decisions).where(_d.rollout_id.in_([r.id for r in rows]))
            if newest is not None:
                newer = decisions.alias("newer")
                last = select(func.max(newer.c.seq)).where(newer.c.rollout_id == _d.rollout_id)
                kept = _d.seq > last.scalar_subquery() - newest
                wanted = wanted.where(or_(_d.action != "extend", kept))
            found = conn.execute(wanted.order_by(_d.rollout_id, _d.seq)).all() if rows else []
        taken: dict[str, list[Decision]] = {}
        for d in found:
            taken.setdefault(d.rollout_id, []).append(_decision(d._mapping))
        return [_rollout(r._mapping, taken.get(r.id, [])) for r in rows]

    def decision_counts(self, rollout_ids: list[str]) -> dict[str, int]:
        """How many decisions each rollout recorded (a rollout is never without its start)."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(_d.rollout_id, func.count())
                .where(_d.rollout_id.in_(rollout_ids))
                .group_by(_d.rollout_id)
            ).all()
        return {rollout_id: count for rollout_id, count in rows}

    def active_rollouts(self) -> list[tuple[str, str]]:
        """``(workspace id, rollout id)`` of every rollout still running, every workspace."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(_r.workspace_id, _r.id).where(_r.active.is_not(None)).order_by(_r.created_ms)
            ).all()
        return [(w, i) for w, i in rows]

    def take_lease(self, rollout_id: str, owner: str, now: int, ttl_ms: int) -> bool:
        """The rollout's lease for ``ttl_ms``, unless another owner holds an unexpired one."""
        with self.db.write() as conn:
            taken = conn.execute(
                update(rollouts)
                .where(
                    _r.id == rollout_id,
                    _r.active.is_not(None),
                    or_(_r.lease_until.is_(None), _r.lease_until < now, _r.lease_owner == owner),
                )
                .values(lease_owner=owner, lease_until=now + ttl_ms)
            ).rowcount
        return bool(taken)

    def release_lease(self, rollout_id: str, owner: str) -> None:
        """Give the lease back after a step: the next round may be another worker's."""
        with self.db.write() as conn:
            conn.execute(
                update(rollouts)
                .where(_r.id == rollout_id, _r.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    def record(
        self,
        rollout_id: str,
        decision: Decision,
        values: Mapping[str, Any],
        owner: str | None,
        expected_stage: int,
    ) -> bool:
        """Store ``decision`` and set ``values``, only while ``owner`` holds the lease (a
        person's approval or abort: while nobody else changed the stage); False otherwise."""
        changes = dict(values)
        if changes.get("state") in ("promoted", "rolled_back", "aborted"):
            changes["active"] = None
            changes["lease_owner"] = None
            changes["lease_until"] = None
        with self.db.write() as conn:
            held = [_r.id == rollout_id, _r.stage == expected_stage, _r.active.is_not(None)]
            if owner is not None:
                held.append(_r.lease_owner == owner)
            changed = conn.execute(
                update(rollouts).where(and_(*held)).values(updated_ms=decision.at_ms, **changes)
            ).rowcount
            if not changed:
                return False
            seq = conn.execute(
                select(func.coalesce(func.max(_d.seq), -1) + 1).where(_d.rollout_id == rollout_id)
            ).scalar_one()
            row = _decision_row(rollout_id, decision)
            conn.execute(decisions.insert().values(**{**row, "seq": seq}))
        return True


def _version_row(row: Mapping[str, Any], note: str) -> dict[str, Any]:
    return {
        "policy_id": row["id"],
        "version": row["version"],
        "spec": row["spec"],
        "note": note[:2000],
        "created_by": row["created_by"],
        "created_time": row["created_time"],
    }


def _decision_row(rollout_id: str, decision: Decision) -> dict[str, Any]:
    return {
        "rollout_id": rollout_id,
        "seq": decision.seq,
        "at_ms": decision.at_ms,
        "stage": decision.stage,
        "action": decision.action,
        "reason": decision.reason[:20_000],
        "figures": _json(decision.figures),
    }


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _firing(row: Mapping[str, Any]) -> Firing:
    return Firing(
        id=row["id"],
        policy=row["policy_name"],
        policy_version=row["policy_version"],
        tick=row["tick"],
        model=row["model"],
        status=row["status"],
        pipeline_run_id=row["pipeline_run_id"],
        candidate_version=row["candidate_version"],
        champion_version=row["champion_version"],
        gate=_loads(row["gate"]),
        risk=_loads(row["risk"]),
        rollout_id=row["rollout_id"],
        message=row["message"],
        started_ms=row["started_ms"],
        updated_ms=row["updated_ms"],
    )


def _decision(row: Mapping[str, Any]) -> Decision:
    return Decision(
        row["seq"],
        row["at_ms"],
        row["stage"],
        row["action"],
        row["reason"],
        orjson.loads(row["figures"]),
    )


def _rollout(row: Mapping[str, Any], found: list[Decision]) -> Rollout:
    return Rollout(
        id=row["id"],
        deployment=row["deployment"],
        model=row["model"],
        candidate_version=row["candidate_version"],
        champion_version=row["champion_version"],
        firing_id=row["firing_id"],
        risk=orjson.loads(row["risk"]),
        plan=Plan.from_dict(orjson.loads(row["plan"])),
        stage=row["stage"],
        state=row["state"],
        stage_started_ms=row["stage_started_ms"],
        extensions=row["extensions"],
        created_by=row["created_by"],
        created_ms=row["created_ms"],
        updated_ms=row["updated_ms"],
        decisions=tuple(found),
    )


__all__ = ["MAX_LISTED", "SqlAutomationStore"]
