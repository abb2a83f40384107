"""HttpDeploymentClient: ``client.deployments`` over a gnomon server's REST API (the contract
is documented on :class:`gnomon.deployments.api.DeploymentsApi`).

The server's service raises the errors, which the transport turns back into the same classes.
Bodies and answers are the models of ``schemas.py``, as the routes read and write them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from gnomon import checks
from gnomon.client.transport import Transport, body, segment
from gnomon.deployments.entities import Deployment, DeploymentEvent, ResolvedArm, ServingConfig
from gnomon.deployments.schemas import (
    ConfigBody,
    CreateDeployment,
    DeploymentEventOut,
    DeploymentOut,
    OutcomesLogged,
    Promote,
    ResolvedOut,
    Rollback,
    SetRoute,
    UpdateDeployment,
)
from gnomon.deployments.service import check_config
from gnomon.errors import NotFound
from gnomon.predictions.outcomes import MAX_OUTCOMES_PER_REQUEST, check_outcomes
from gnomon.predictions.parquet import from_parquet
from gnomon.predictions.reading import check_limit

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.predictions.outcomes import OutcomesInput


class HttpDeploymentClient:
    """Deployments of the transport's workspace through a gnomon server (another
    workspace's: a transport ``in_workspace`` it)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def create(
        self,
        name: str,
        model: str,
        *,
        description: str = "",
        config: ServingConfig | None = None,
    ) -> Deployment:
        new = body(
            CreateDeployment,
            name=name,
            model=model,
            description=description,
            config=_config(config),
        )
        return self.transport.one("POST", "/deployments", DeploymentOut, json=new).entity()

    def get(self, name: str) -> Deployment:
        return self.transport.one("GET", _path(name), DeploymentOut).entity()

    def set_route(
        self,
        name: str,
        model: str,
        *,
        canary: int | None = None,
        ab_key: str | None = None,
        ab_weight: int = 50,
        shadow: bool = False,
        note: str = "",
    ) -> Deployment:
        route = body(
            SetRoute,
            model=model,
            canary=canary,
            ab_key=ab_key,
            ab_weight=ab_weight,
            shadow=shadow,
            note=note,
        )
        return self._change("POST", f"{_path(name)}/routes", json=route)

    def remove_route(self, name: str, model: str, note: str = "") -> Deployment:
        params = {"model": model, "note": note}
        return self._change("DELETE", f"{_path(name)}/routes", params=params)

    def promote(self, name: str, model: str | None = None, note: str = "") -> Deployment:
        return self._change(
            "POST", f"{_path(name)}/promote", json=body(Promote, model=model, note=note)
        )

    def rollback(self, name: str, note: str = "") -> Deployment:
        return self._change("POST", f"{_path(name)}/rollback", json=body(Rollback, note=note))

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        config: ServingConfig | None = None,
        note: str = "",
    ) -> Deployment:
        change = body(UpdateDeployment, description=description, config=_config(config), note=note)
        return self._change("PATCH", _path(name), json=change)

    def history(self, name: str) -> list[DeploymentEvent]:
        events = self.transport.many("GET", f"{_path(name)}/history", DeploymentEventOut)
        return [e.entity() for e in events]

    def delete(self, name: str) -> None:
        self.transport.request("DELETE", _path(name))

    def resolve(self, name: str) -> tuple[Deployment, list[ResolvedArm]]:
        found = self.transport.one("GET", f"{_path(name)}/resolved", ResolvedOut)
        return found.deployment.entity(), [arm.entity() for arm in found.arms]

    def log_outcomes(self, name: str, outcomes: OutcomesInput) -> int:
        """Record ground truth for requests ``name`` answered; the number accepted.

        Checked here first, so a bad item is named by its index in ``outcomes``; then sent in
        requests of at most 10,000 (one request when empty, so an unknown name is NotFound).
        """
        pairs = check_outcomes(outcomes)
        path = f"{_path(name)}/outcomes"
        accepted = 0
        for start in range(0, max(len(pairs), 1), MAX_OUTCOMES_PER_REQUEST):
            chunk = pairs[start : start + MAX_OUTCOMES_PER_REQUEST]
            body = {"outcomes": [{"request_id": rid, "value": value} for rid, value in chunk]}
            sent = self.transport.one(
                "POST", path, OutcomesLogged, content=_json(body), headers=_JSON_HEADERS
            )
            accepted += sent.accepted
        return accepted

    def records(
        self, name: str, *, with_outcomes: bool = True, limit: int | None = None
    ) -> pd.DataFrame:
        """``name``'s prediction records, oldest first: the newest ``limit`` (``None``: the
        newest 100,000, the most one request answers), joined with their outcomes when asked."""
        params = {"limit": check_limit(limit), "outcomes": "true" if with_outcomes else "false"}
        with self.transport.stream("GET", f"{_path(name)}/records", params=params) as response:
            return from_parquet(response.read())

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self) -> list[Deployment]:
        return [d.entity() for d in self.transport.many("GET", "/deployments", DeploymentOut)]

    def _change(self, method: str, path: str, **kwargs: Any) -> Deployment:
        return self.transport.one(method, path, DeploymentOut, **kwargs).entity()


def _path(name: str) -> str:
    """The path of a deployment. Names the server could not route get the embedded answers:
    '' is refused, and a name with '/' cannot exist (deployment names never hold one)."""
    checks.text("deployment name", name)
    if "/" in name:
        raise NotFound(f"deployment {name!r} not found")
    return f"/deployments/{segment(name)}"


def _config(config: ServingConfig | None) -> ConfigBody | None:
    """The config's wire model; checked here first, since NaN and bad types cannot travel."""
    return None if config is None else ConfigBody.of(check_config(config))


_JSON_HEADERS = {"content-type": "application/json"}


def _json(body: Any) -> bytes:
    # orjson, as the records are written: numpy and pandas values (a DataFrame's) become
    # numbers or lists, anything else unknown its str().
    return orjson.dumps(body, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)


def _default(value: Any) -> Any:
    for method in ("tolist", "item"):
        convert = getattr(value, method, None)
        if callable(convert):
            return convert()
    return str(value)
