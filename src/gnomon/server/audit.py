"""Recording a change made through a route in the audit log, under the caller's name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from gnomon.auth.entities import AuditAction
from gnomon.server.access import Caller


def audit(
    request: Request,
    caller: Caller,
    action: AuditAction,
    object_type: str,
    object_id: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    address = request.client.host if request.client else None
    request.app.state.services.auth.log.record(
        caller.principal,
        action,
        object_type,
        object_id,
        workspace_id=caller.scope.workspace or None,  # "" outside any workspace
        details=details,
        address=address,
    )
