"""The monitoring capability's service (embedded and the server's side) and
``client.monitors`` in both modes."""

from __future__ import annotations

import copy

from gnomon._types import Scope
from gnomon.monitoring.api import MonitorsApi
from gnomon.services import ServiceRegistry


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.monitoring.http import HttpMonitorClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        services.expose("monitors", MonitorsApi, lambda _: HttpMonitorClient(transport))
        return
    from gnomon.data.service import DatasetService
    from gnomon.deployments.service import DeploymentService
    from gnomon.monitoring.alerting import Alerting
    from gnomon.monitoring.client import MonitorClient
    from gnomon.monitoring.operator import operator_channels
    from gnomon.monitoring.service import MonitorService
    from gnomon.monitoring.sql import SqlMonitorStore
    from gnomon.registry.registration import Registrar

    settings = services.settings
    store = SqlMonitorStore(services.database)
    operator = operator_channels(settings)
    monitors = MonitorService(
        store,
        services.get(DeploymentService),
        services.get(Registrar),
        services.find(DatasetService),
        settings,
        Alerting(store, operator),
    )
    services.provide(MonitorService, monitors)

    def server_side(twin: ServiceRegistry) -> None:
        # A client's webhook must not reach the server's own network; the server's copy of
        # the data service enforces each dataset's access list.
        copied = copy.copy(monitors)
        copied.alerting = Alerting(
            store, operator, trusted=False, allow_private=settings.alert_private_webhooks
        )
        copied.datasets = twin.find(DatasetService)  # the caller's access to the reference
        copied.restricted = True
        twin.provide(MonitorService, copied)

    services.on_server(server_side)

    def embedded(scope: Scope) -> MonitorsApi:
        return MonitorClient(monitors, scope)

    services.expose("monitors", MonitorsApi, embedded)
