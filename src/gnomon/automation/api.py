"""``client.rollouts`` and ``client.policies``: what they offer, embedded or through a server.

Two classes implement each Protocol with the same signatures: ``client.py`` (the services
over the SQL store, bound to the client's scope) and ``http.py`` (the REST API, where the
server's services raise the errors and the transport decodes them into the same classes).
``tests/contract/automation_api_contract.py`` runs one suite on both.

What stays beside the database, where ``gnomon worker`` runs the loop: stepping rollouts
(the smoke test loads the candidate), reading a change's risk from the versions' lineage
(``risk="auto"`` may load model files), and defining policies (creating one imports the
user's pipeline module). The API server does none of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gnomon.automation.entities import Firing, Policy, PolicyVersion, Rollout

# What a listing reads of each rollout's decisions (the store's ``newest``): every one that
# changed its traffic, none of its extensions. A canary short of answers records one each
# hold without end, so 1000 rollouts read as ``status`` reads one were 200 MB in one answer.
LISTED_DECISIONS = 0


class RolloutsApi(Protocol):
    """Progressive rollouts of one workspace's deployments; another workspace's are
    ``NotFound``."""

    supports_auto_risk: bool  # whether ``start(risk="auto")`` reads the lineage here

    def start(
        self,
        deployment: str,
        model: str,
        version: int,
        *,
        risk: str = "auto",
        strategy: str | None = None,
        canary_steps: Sequence[int] = (10, 50),
        hold_s: float = 300.0,
        min_requests: int = 100,
        alias: str | None = "production",
    ) -> Rollout:
        """Roll ``model/version`` out over ``deployment``; a worker steps it from its smoke
        test on. ``risk`` is ``low``, ``medium``, ``high`` or ``auto`` (read from the two
        versions' lineage, where ``supports_auto_risk``); ``strategy`` (``direct``,
        ``canary``, ``shadow``) overrides the one the risk calls for; each of the rising
        ``canary_steps`` (1 to 10 percentages) holds ``hold_s`` seconds and ``min_requests``
        answers of the candidate; ``alias`` moves to the candidate when it is promoted.

        Raises:
            NotFound: the deployment or the version.
            InvalidInput: a bad argument; the version already answers as the primary;
                ``risk="auto"`` through a server.
            Conflict: the deployment has a rollout running.
        """
        ...

    def status(self, deployment: str) -> Rollout:
        """The deployment's newest rollout. Raises ``NotFound`` naming the deployment."""
        ...

    def get(self, rollout_id: str) -> Rollout:
        """Raises ``NotFound``."""
        ...

    def list(self, deployment: str | None = None, limit: int = 50) -> list[Rollout]:
        """Newest first, at most ``limit`` (1 to 1000), each with the decisions that changed
        its traffic (``status`` and ``get`` add its newest extensions). Raises
        ``InvalidInput``."""
        ...

    def approve(self, deployment: str) -> Rollout:
        """Let the rollout waiting for approval go on to live traffic.

        Raises:
            NotFound: the deployment, or it has had no rollout.
            InvalidInput: its rollout is not waiting for approval.
        """
        ...

    def abort(self, deployment: str, reason: str = "") -> Rollout:
        """Stop the running rollout and take the candidate's arm away; ``reason`` is kept
        with the decision.

        Raises:
            NotFound: the deployment, or it has had no rollout.
            InvalidInput: its rollout has ended.
        """
        ...


class PoliciesApi(Protocol):
    """Policies of one workspace, read, paused and resumed. Creating, updating and deleting
    one stay beside the database (``client.PolicyClient``): creating imports the pipeline."""

    def get(self, name: str) -> Policy:
        """Raises ``NotFound`` naming the policy."""
        ...

    def versions(self, name: str) -> list[PolicyVersion]:
        """Every version of its spec, oldest first. Raises ``NotFound``."""
        ...

    def firings(self, name: str, limit: int = 20) -> list[Firing]:
        """What it did each time it fired, newest first, at most ``limit`` (1 to 1000).

        Raises:
            NotFound: no such policy.
            InvalidInput: a bad limit.
        """
        ...

    def pause(self, name: str) -> Policy:
        """Stop firing until resumed. Raises ``NotFound``."""
        ...

    def resume(self, name: str) -> Policy:
        """Fire again, from now on. Raises ``NotFound``."""
        ...

    # Last in the class: a method named ``list`` shadows the builtin for the annotations
    # after it.
    def list(self) -> list[Policy]:
        """By name."""
        ...


__all__ = ["LISTED_DECISIONS", "PoliciesApi", "RolloutsApi"]
