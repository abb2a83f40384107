"""``DeploymentsApi``: what ``client.deployments`` offers, embedded or through a server.

Two classes implement it with the same signatures: ``client.DeploymentClient`` (the service
over the SQL store, bound to the client's scope) and ``http.HttpDeploymentClient`` (the REST
API, where the server's service raises the errors and the transport decodes them into the
same classes). ``tests/contract/deployments_api_contract.py`` runs one suite on both.

A model reference is ``churn@production`` (an alias), ``churn/7`` (a version), ``churn``
(the latest READY version) or a ``models:/`` URI. Every change raises the revision by one
and is kept in the history; a change that loses a race with another writer is a
``Conflict`` and writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from gnomon.deployments.entities import Deployment, DeploymentEvent, ResolvedArm, ServingConfig

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.predictions.outcomes import OutcomesInput


class DeploymentsApi(Protocol):
    """Deployments of one workspace: which model versions answer an endpoint, and how its
    traffic is split between them. Another workspace's deployments are ``NotFound``."""

    def create(
        self,
        name: str,
        model: str,
        *,
        description: str = "",
        config: ServingConfig | None = None,
    ) -> Deployment:
        """A deployment serving ``model`` to all traffic (revision 1).

        Raises:
            AlreadyExists: the name is taken in the workspace.
            NotFound: the model, version or alias does not exist.
            InvalidInput: a bad name (empty, or holding '/'), model reference or config.
        """
        ...

    def get(self, name: str) -> Deployment:
        """Raises ``NotFound`` naming the deployment."""
        ...

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
        """Route to ``model``: as a canary taking ``canary`` percent at random, as an A/B arm
        taking ``ab_weight`` percent sticky by ``ab_key``, as a shadow, or (none of those) as
        the new primary taking all traffic. A canary or A/B arm replaces any earlier one;
        shadows are kept.

        Raises:
            NotFound: the deployment, or the version ``model`` names.
            InvalidInput: more than one of canary, A/B key and shadow; a weight that is not a
                whole percentage from 1 to 99; a model already routed to; a fourth shadow.
            Conflict: another change won the race.
        """
        ...

    def remove_route(self, name: str, model: str, note: str = "") -> Deployment:
        """Stop routing to ``model`` (a canary, A/B arm or shadow; never the primary).

        Raises:
            InvalidInput: the deployment does not route to ``model``, or it is the primary.
        """
        ...

    def promote(self, name: str, model: str | None = None, note: str = "") -> Deployment:
        """Make the candidate (or ``model``, any arm) the primary with all traffic.

        Raises:
            InvalidInput: no canary or A/B arm and no ``model``, or it is the primary already.
        """
        ...

    def rollback(self, name: str, note: str = "") -> Deployment:
        """Go back to the routing and config of the revision before the current one (like
        ``kubectl rollout undo``: rolling back twice returns to where you started).

        Raises:
            InvalidInput: the deployment is at revision 1.
        """
        ...

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        config: ServingConfig | None = None,
        note: str = "",
    ) -> Deployment:
        """Change the description or the whole serving config; ``None`` keeps it.

        Raises:
            InvalidInput: an unknown policy, or batching limits out of range.
        """
        ...

    def history(self, name: str) -> list[DeploymentEvent]:
        """Every revision, oldest first, with who changed what and the note."""
        ...

    def delete(self, name: str) -> None:
        """Raises ``NotFound``."""
        ...

    def resolve(self, name: str) -> tuple[Deployment, list[ResolvedArm]]:
        """The deployment and the version each arm names now (aliases followed): what a
        model server loads.

        Raises:
            NotFound: the deployment, or a version an arm names is gone.
        """
        ...

    def log_outcomes(self, name: str, outcomes: OutcomesInput) -> int:
        """Record ground truth for requests ``name`` answered; the number accepted.

        Args:
            name: the deployment.
            outcomes: request id → value, a list of ``{"request_id", "value"}`` dicts, or a
                DataFrame with ``request_id`` and ``value`` columns; at most 100,000.

        Returns:
            How many were written (durably, before this returns).

        Raises:
            InvalidInput: a request id that is not a non-empty string, a missing value, or
                too many (the message names the first bad item's index).
            NotFound: no such deployment.

        Example:
            >>> client.deployments.log_outcomes("web", {"5f1c…": 1, "9ab0…": 0})
        """
        ...

    def records(
        self, name: str, *, with_outcomes: bool = True, limit: int | None = None
    ) -> pd.DataFrame:
        """``name``'s prediction records, oldest first: the newest ``limit`` (``None``: all
        embedded, the newest 100,000 through a server), joined with their outcomes
        (``outcome``, ``outcome_time``) when ``with_outcomes``.

        Raises:
            InvalidInput: a limit that is not a positive integer.
            NotFound: no such deployment.
        """
        ...

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it (mypy reads ``list[...]`` below it as this method).
    def list(self) -> list[Deployment]:
        """Every deployment of the workspace, by name."""
        ...


if TYPE_CHECKING:  # mypy holds both implementations to the Protocol
    from gnomon.deployments.client import DeploymentClient
    from gnomon.deployments.http import HttpDeploymentClient

    _embedded: type[DeploymentsApi] = DeploymentClient
    _remote: type[DeploymentsApi] = HttpDeploymentClient
