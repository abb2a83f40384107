"""The tuning capability's services and ``client.tuning`` in both modes."""

from __future__ import annotations

from gnomon._types import Scope
from gnomon.services import ServiceRegistry
from gnomon.tuning.api import TuningApi


def build(services: ServiceRegistry) -> None:
    if services.database is None:
        from gnomon.tuning.http import HttpTuningClient

        transport = services.transport
        assert transport is not None  # one of the two is always set
        services.expose("tuning", TuningApi, lambda _: HttpTuningClient(transport))
        return
    from gnomon.tuning.client import TuningClient
    from gnomon.tuning.service import TuningService
    from gnomon.tuning.sql import SqlTuningStore

    service = TuningService(SqlTuningStore(services.database))
    services.provide(TuningService, service)

    def embedded(scope: Scope) -> TuningApi:
        return TuningClient(service, scope)

    services.expose("tuning", TuningApi, embedded)
