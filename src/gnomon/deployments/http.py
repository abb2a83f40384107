"""HttpDeploymentClient: ``client.deployments`` over a gnomon server's REST API.

It mirrors :class:`gnomon.deployments.client.DeploymentClient` method for method: the
server's service raises the errors, which the transport turns back into the same classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from gnomon import checks
from gnomon.client.transport import Transport
from gnomon.deployments.entities import Deployment, DeploymentEvent, ResolvedArm, ServingConfig
from gnomon.deployments.outcomes import check_limit, check_outcomes, from_parquet
from gnomon.deployments.schemas import (
    MAX_OUTCOMES_PER_REQUEST,
    ConfigBody,
    DeploymentEventOut,
    DeploymentOut,
    OutcomesLogged,
    ResolvedOut,
)
from gnomon.deployments.service import check_config
from gnomon.errors import NotFound

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.deployments.outcomes import OutcomesInput


class HttpDeploymentClient:
    """Deployments of ``workspace`` (default: the transport's) through a gnomon server."""

    def __init__(self, transport: Transport, workspace: str | None = None) -> None:
        self.transport = transport
        self.workspace = workspace

    def create(
        self,
        name: str,
        model: str,
        *,
        description: str = "",
        config: ServingConfig | None = None,
    ) -> Deployment:
        """A deployment serving ``model`` (``churn@production`` or ``churn/7``) to all traffic."""
        body = {
            "name": name,
            "model": model,
            "description": description,
            "config": _config(config),
        }
        return _deployment(self._call("POST", "/deployments", json=body))

    def get(self, name: str) -> Deployment:
        return _deployment(self._call("GET", _path(name)))

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
        """Route to ``model`` as a canary, an A/B arm, a shadow, or (none given) the primary."""
        body = {
            "model": model,
            "canary": canary,
            "ab_key": ab_key,
            "ab_weight": ab_weight,
            "shadow": shadow,
            "note": note,
        }
        return _deployment(self._call("POST", f"{_path(name)}/routes", json=body))

    def remove_route(self, name: str, model: str, note: str = "") -> Deployment:
        params = {"model": model, "note": note}
        return _deployment(self._call("DELETE", f"{_path(name)}/routes", params=params))

    def promote(self, name: str, model: str | None = None, note: str = "") -> Deployment:
        body = {"model": model, "note": note}
        return _deployment(self._call("POST", f"{_path(name)}/promote", json=body))

    def rollback(self, name: str, note: str = "") -> Deployment:
        return _deployment(self._call("POST", f"{_path(name)}/rollback", json={"note": note}))

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        config: ServingConfig | None = None,
        note: str = "",
    ) -> Deployment:
        body = {"description": description, "config": _config(config), "note": note}
        return _deployment(self._call("PATCH", _path(name), json=body))

    def history(self, name: str) -> list[DeploymentEvent]:
        body = self._call("GET", f"{_path(name)}/history")
        return [DeploymentEventOut.model_validate(e).entity() for e in body]

    def delete(self, name: str) -> None:
        self._call("DELETE", _path(name))

    def resolve(self, name: str) -> tuple[Deployment, list[ResolvedArm]]:
        """The deployment and the version each arm names now (what a server loads)."""
        found = ResolvedOut.model_validate(self._call("GET", f"{_path(name)}/resolved"))
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
            answer = self._call("POST", path, content=_json(body), headers=_JSON_HEADERS)
            accepted += OutcomesLogged.model_validate(answer).accepted
        return accepted

    def records(
        self, name: str, *, with_outcomes: bool = True, limit: int | None = None
    ) -> pd.DataFrame:
        """``name``'s prediction records, oldest first: the newest ``limit`` (``None``: the
        newest 100,000, the most one request answers), joined with their outcomes when asked."""
        params = {"limit": check_limit(limit), "outcomes": "true" if with_outcomes else "false"}
        with self.transport.stream(
            "GET", f"{_path(name)}/records", params=params, workspace=self.workspace
        ) as response:
            return from_parquet(response.read())

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self) -> list[Deployment]:
        return [_deployment(d) for d in self._call("GET", "/deployments")]

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.transport.request(method, path, workspace=self.workspace, **kwargs)


def _path(name: str) -> str:
    """The path of a deployment. Names the server could not route get the embedded answers:
    '' is refused, and a name with '/' cannot exist (deployment names never hold one)."""
    checks.text("deployment name", name)
    if "/" in name:
        raise NotFound(f"deployment {name!r} not found")
    return f"/deployments/{quote(name, safe='')}"


def _config(config: ServingConfig | None) -> dict[str, Any] | None:
    """The config as JSON; checked here first, since NaN and bad types cannot travel."""
    if config is None:
        return None
    return ConfigBody.of(check_config(config)).model_dump(mode="json")


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


def _deployment(body: Any) -> Deployment:
    return DeploymentOut.model_validate(body).entity()
