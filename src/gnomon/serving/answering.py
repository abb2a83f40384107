"""The steps every arm's answer takes, the primary's and the shadows' alike: the contract
check of its request, its values, and the record it leaves."""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import pandas as pd

from gnomon.modelfolder import Contract
from gnomon.predictions.entities import AnsweredRequest
from gnomon.serving.enforce import Policy, Violation, enforce
from gnomon.serving.routing import RouteTable, ServedArm


class Checked(NamedTuple):
    """A request's rows as an arm's model gets them, and how they broke its contract."""

    frame: pd.DataFrame
    violations: list[Violation]
    refused: bool  # the policy answers them with an error (reject; clip when it cannot)


def check(table: RouteTable, arm: ServedArm, raw: pd.DataFrame) -> Checked:
    """``raw`` checked against ``arm``'s contract under the table's policy (cast, and clipped
    under ``clip``); an arm without a contract takes it as it is."""
    contract = arm.model.contract
    if contract is None:
        return Checked(raw, [], False)
    frame, violations = enforce(_without_key(raw, table, contract), contract, table.policy)
    return Checked(frame, violations, bool(violations) and table.policy is not Policy.WARN)


def answered(
    request_id: str,
    table: RouteTable,
    arm: ServedArm,
    checked: Checked,
    values: list[Any],
    started: float,
) -> AnsweredRequest:
    """What the records keep of ``arm``'s answer to a request that arrived at ``started``
    (``time.perf_counter()``)."""
    return AnsweredRequest(
        request_id=request_id,
        time_ms=int(time.time() * 1000),
        deployment=table.deployment,
        model_name=arm.name,
        model_version=arm.version,
        role=arm.role,
        frame=checked.frame,
        outputs=values,
        latency_ms=(time.perf_counter() - started) * 1000,
        violations=[_violation_dict(v) for v in checked.violations] or None,
    )


def _without_key(frame: pd.DataFrame, table: RouteTable, contract: Contract) -> pd.DataFrame:
    """The A/B key is a routing field, not a model input, unless the contract lists it."""
    key = table.ab_key
    if key is None or key not in frame.columns or key in contract.input_names:
        return frame
    return frame.drop(columns=[key])


def _violation_dict(violation: Violation) -> dict[str, Any]:
    return {
        "row": violation.row,
        "column": violation.column,
        "problem": violation.problem,
        "expected": violation.expected,
    }


__all__ = ["Checked", "answered", "check"]
