"""AuditLog: writes audit events; what every service that changes something records through."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gnomon._types import now_ms
from gnomon.auth import rules
from gnomon.auth.entities import AuditAction, AuditEvent, NewAuditEvent, Principal
from gnomon.auth.store import AuditStore


class AuditLog:
    """Stamps events with the clock's time and appends them to the audit store.

    Other capabilities' services take one of these, not the whole auth service, to record
    their own changes.
    """

    def __init__(self, store: AuditStore, clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.clock = clock

    def record(
        self,
        actor: Principal | str,
        action: AuditAction | str,
        object_type: str,
        object_id: str,
        workspace_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        address: str | None = None,
    ) -> AuditEvent:
        """Record one change or security event.

        Args:
            actor: who made it: a principal, or a name such as ``"system"``.
            action: usually an ``AuditAction`` (``create``, ``update``, ``delete``…).
            object_type: ``run``, ``model``, ``user``…; ``object_id`` names the object.
            workspace_id: the object's workspace id (``Scope.workspace``), if it has one.
            details: JSON-serialisable facts worth keeping; never secrets.
            address: the client's address, when known.

        Raises:
            InvalidInput: an empty or over-long actor, action or type, or details JSON
                cannot hold.
        """
        name = actor.name if isinstance(actor, Principal) else actor
        rules.check_label("actor", name, 256)
        rules.check_label("action", action, 64)
        rules.check_label("object_type", object_type, 64)
        rules.check_label("object_id", object_id, 256, empty=True)
        payload = rules.check_details(details)
        address = rules.clean_address(address)
        return self.append(name, action, object_type, object_id, payload, workspace_id, address)

    def append(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        details: Mapping[str, Any] | None = None,
        workspace_id: str | None = None,
        address: str | None = None,
    ) -> AuditEvent:
        """``record`` without the checks, for callers whose values are already sound."""
        event = NewAuditEvent(
            time=self.clock(),
            actor=actor,
            action=str(action),
            object_type=object_type,
            object_id=object_id,
            workspace_id=workspace_id,
            details=dict(details or {}),
            address=address,
        )
        return self.store.append(event)
