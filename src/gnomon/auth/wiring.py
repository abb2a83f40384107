"""The auth capability's services: users, workspaces, tokens and the audit log (embedded and
the server's side), and, with a server, ``client.auth``: the identity API over its routes."""

from __future__ import annotations

from gnomon.auth.api import AuthApi
from gnomon.services import ServiceRegistry


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.auth.http import HttpAuthClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        api = HttpAuthClient(transport)  # bound to no scope: the token says who acts
        services.provide(AuthApi, api)
        services.expose("auth", AuthApi, lambda _: api)
        return
    from gnomon.auth.service import AuthService
    from gnomon.auth.sql import SqlAuthStore
    from gnomon.auth.sql_audit import SqlAuditStore

    store = SqlAuthStore(services.database)
    # The embedded user acts in GNOMON_WORKSPACE, by id: an unknown name is NotFound now.
    services.workspace_id = store.get_workspace(services.settings.workspace).id
    audit = SqlAuditStore(services.database)
    retention = services.settings.audit_retention_days
    services.provide(AuthService, AuthService(store, audit, audit_retention_days=retention))
