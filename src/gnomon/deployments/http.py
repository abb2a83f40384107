"""HttpDeploymentClient: ``client.deployments`` over a gnomon server's REST API (placeholder
until the REST routes land)."""

from __future__ import annotations

from gnomon.client.transport import Transport


class HttpDeploymentClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
