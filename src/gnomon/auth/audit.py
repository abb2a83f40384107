"""AuditLog: writes audit events; what every service that changes something records through."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from gnomon._types import now_ms
from gnomon.auth import rules
from gnomon.auth.entities import AuditAction, AuditEvent, NewAuditEvent, Principal
from gnomon.auth.store import AuditStore

DAY_MS = 24 * 60 * 60 * 1000
PRUNE_INTERVAL_MS = 60 * 60 * 1000


class AuditLog:
    """Stamps events with the clock's time and appends them to the audit store.

    Other capabilities' services take one of these, not the whole auth service, to record
    their own changes. With a retention, events older than it are deleted as new ones are
    written, at most once per ``PRUNE_INTERVAL_MS`` in each process.
    """

    def __init__(
        self,
        store: AuditStore,
        clock: Callable[[], int] = now_ms,
        retention_days: int | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.retention_ms = retention_days * DAY_MS if retention_days else None
        self._next_prune = 0  # a process's first write prunes
        self._prune_lock = threading.Lock()

    def record(
        self,
        actor: Principal | str,
        action: AuditAction | str,
        object_type: str,
        object_id: str,
        *,
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
        return self.append(
            name,
            action,
            object_type,
            object_id,
            workspace_id=workspace_id,
            details=payload,
            address=address,
        )

    def append(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        *,
        workspace_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        address: str | None = None,
    ) -> AuditEvent:
        """``record`` without the checks, for callers whose values are already sound; the
        same arguments, the trailing ones by keyword."""
        event = self.event(
            actor,
            action,
            object_type,
            object_id,
            workspace_id=workspace_id,
            details=details,
            address=address,
        )
        self._prune(event.time)
        return self.store.append(event)

    def append_limited(self, event: NewAuditEvent, since: int, limit: int) -> list[int]:
        """``AuditStore.append_limited``: store ``event`` unless ``limit`` events with its
        action and address are stored since ``since``; returns the times it counted."""
        self._prune(event.time)
        return self.store.append_limited(event, since, limit)

    def event(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        *,
        workspace_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        address: str | None = None,
    ) -> NewAuditEvent:
        """An event stamped with the clock's time, not yet stored."""
        return NewAuditEvent(
            time=self.clock(),
            actor=actor,
            action=str(action),
            object_type=object_type,
            object_id=object_id,
            workspace_id=workspace_id,
            details=dict(details or {}),
            address=address,
        )

    def _prune(self, now: int) -> None:
        if self.retention_ms is None:
            return
        with self._prune_lock:
            if now < self._next_prune:
                return
            self._next_prune = now + PRUNE_INTERVAL_MS
        self.store.prune_events(now - self.retention_ms)
