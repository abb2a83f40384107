"""parse_spec and duration: defaults, every field's bad values refused with InvalidInput
naming the field, and a spec that survives to_dict, JSON and from_dict."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from gnomon.automation.spec import (
    MAX_DURATION_S,
    GateSpec,
    Limits,
    PolicySpec,
    RolloutSpec,
    duration,
    parse_spec,
)
from gnomon.errors import InvalidInput

GATE = {"target": "churned"}


def spec(**fields: Any) -> dict[str, Any]:
    return {"model": "churn", "deployment": "churn-api", "gate": dict(GATE), **fields}


def rollout(**fields: Any) -> dict[str, Any]:
    return spec(rollout=fields)


def refused(data: object, *words: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_spec(data)  # type: ignore[arg-type]
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("90", 90),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86_400),
        ("1.5h", 5400),
        (" 5 m ", 300),
        ("30d", MAX_DURATION_S),
        (45, 45),
        (2.5, 2.5),
        (0, 0),
    ],
)
def test_a_duration_is_seconds_or_text_with_a_unit(text: object, seconds: float) -> None:
    assert duration("hold", text) == seconds


@pytest.mark.parametrize("text", ["5x", "5M", "m", "", "-5m", "5mm", ".5m", "1e3", "5 minutes"])
def test_a_duration_without_a_known_unit_is_refused_by_name(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^hold is seconds or a duration like '90s'"):
        duration("hold", text)


@pytest.mark.parametrize("value", [True, None, [5], {"m": 5}])
def test_a_duration_that_is_neither_number_nor_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match=r"^hold is seconds"):
        duration("hold", value)


@pytest.mark.parametrize(
    "value", [-1, math.nan, math.inf, 1e300, "31d", "9" * 400, 30 * 86_400 + 1]
)
def test_a_duration_outside_zero_to_thirty_days_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match=r"^hold must be from 0 s to 30 days"):
        duration("hold", value)


def test_a_duration_below_its_floor_is_refused_with_the_floor() -> None:
    assert duration("stale_s", "1m", low=60) == 60
    with pytest.raises(InvalidInput, match=r"^stale_s must be from 60 s to 30 days, not '59s'"):
        duration("stale_s", "59s", low=60)


def test_a_duration_given_as_a_huge_whole_number_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^hold must be from"):
        duration("hold", 10**400)


# -- defaults ---------------------------------------------------------------------------------


def test_the_least_a_policy_says_takes_every_default() -> None:
    parsed = parse_spec(spec())
    assert parsed == PolicySpec("churn", "churn-api", GateSpec("churned"))
    assert (parsed.champion_alias, parsed.cooldown_s, parsed.stale_s) == (
        "production",
        3600.0,
        86_400.0,
    )
    gate = parsed.gate
    assert (gate.holdout, gate.model_type, gate.thresholds) == (None, "classifier", {})
    assert (gate.production_window_s, gate.min_production_rows) == (86_400.0, 50)
    r = parsed.rollout
    assert r.strategies == {"low": "direct", "medium": "canary", "high": "shadow"}
    assert (r.canary_steps, r.hold_s, r.min_requests) == ((10, 50), 300.0, 100)
    assert (r.shadow_requests, r.shadow_max_s, r.approval, r.smoke_rows) == (200, 900.0, (), 20)
    assert r.limits == Limits(0.01, 2.0, 0.02, 0.9)


def test_every_field_given_is_kept() -> None:
    parsed = parse_spec(
        spec(
            champion_alias="live",
            cooldown="2h",
            stale_s="1d",
            gate={
                "target": "price",
                "holdout": "houses@3",
                "model_type": "regressor",
                "thresholds": {"rmse": {"max_delta": 0.5}},
                "production_window": "6h",
                "min_production_rows": 10,
            },
            rollout={
                "low": "canary",
                "medium": "shadow",
                "high": "shadow",
                "canary_steps": [5, 25, 75],
                "hold": "10m",
                "min_requests": 40,
                "shadow": {"requests": 500, "max_time": "1h"},
                "approval": "high",
                "smoke_rows": 8,
                "limits": {
                    "max_error_rate": 0.05,
                    "max_p99_ratio": 3,
                    "max_metric_drop": None,
                    "min_agreement": 0.8,
                },
            },
        )
    )
    assert (parsed.champion_alias, parsed.cooldown_s, parsed.stale_s) == ("live", 7200, 86_400)
    assert parsed.gate == GateSpec(
        "price", "houses@3", "regressor", {"rmse": {"max_delta": 0.5}}, 21_600, 10
    )
    assert parsed.rollout == RolloutSpec(
        {"low": "canary", "medium": "shadow", "high": "shadow"},
        (5, 25, 75),
        600,
        40,
        500,
        3600,
        ("high",),
        8,
        Limits(0.05, 3.0, None, 0.8),
    )


def test_the_seconds_spellings_are_read_too() -> None:
    parsed = parse_spec(
        spec(
            cooldown_s=60,
            gate={**GATE, "production_window_s": 120},
            rollout={"hold_s": 30, "shadow_requests": 7, "shadow_max_s": 90},
        )
    )
    assert (parsed.cooldown_s, parsed.gate.production_window_s) == (60, 120)
    assert (parsed.rollout.hold_s, parsed.rollout.shadow_requests) == (30, 7)
    assert parsed.rollout.shadow_max_s == 90


def test_strategies_can_be_given_as_a_map_and_a_risk_key_wins() -> None:
    parsed = parse_spec(rollout(strategies={"low": "canary", "high": "canary"}, high="direct"))
    assert parsed.rollout.strategies == {"low": "canary", "medium": "canary", "high": "direct"}


def test_a_null_rollout_or_limits_takes_the_defaults() -> None:
    parsed = parse_spec(spec(rollout=None))
    assert parsed.rollout == RolloutSpec()
    assert parse_spec(rollout(limits=None)).rollout.limits == Limits()


# -- refusals, each naming its field ----------------------------------------------------------


@pytest.mark.parametrize("data", [None, [], "model: churn", 3])
def test_a_policy_that_is_not_a_mapping_is_refused(data: object) -> None:
    refused(data, "a policy is a mapping of fields")


@pytest.mark.parametrize(
    ("data", "where", "name", "known"),
    [
        (spec(schedule="daily"), "policy", "schedule", "champion_alias, cooldown"),
        (spec(gate={**GATE, "metric": "f1"}), "gate", "metric", "holdout, min_production_rows"),
        (rollout(canary=[10]), "rollout", "canary", "canary_steps, high, hold"),
        (rollout(shadow={"requests": 5, "timeout": "1m"}), "rollout.shadow", "timeout", "max_time"),
        (rollout(limits={"max_errors": 0.1}), "rollout.limits", "max_errors", "max_error_rate"),
    ],
)
def test_an_unknown_field_is_refused_with_its_name_and_the_known_ones(
    data: dict[str, Any], where: str, name: str, known: str
) -> None:
    refused(data, f"{where} has no field {name!r}; it has ", known)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"model": None}, ("model name",)),
        ({"model": ""}, ("model name",)),
        ({"deployment": 7}, ("deployment name",)),
        ({"champion_alias": " live"}, ("alias name",)),
        ({"cooldown": "5x"}, ("cooldown is seconds", "'5x'")),
        ({"cooldown": -1}, ("cooldown must be from 0 s",)),
        ({"cooldown_s": math.nan}, ("cooldown must be from",)),
        ({"stale_s": 30}, ("stale_s must be from 60 s",)),
        ({"stale_s": "40d"}, ("stale_s must be from 60 s to 30 days",)),
    ],
)
def test_bad_policy_fields_are_refused_by_name(
    fields: dict[str, Any], words: tuple[str, ...]
) -> None:
    refused(spec(**fields), *words)


@pytest.mark.parametrize("gate", [None, "churned", ["churned"]])
def test_a_policy_without_a_gate_mapping_is_refused(gate: object) -> None:
    refused(spec(gate=gate), "a policy needs a gate")


def test_a_policy_missing_its_gate_is_refused() -> None:
    data = spec()
    del data["gate"]
    refused(data, "a policy needs a gate")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"target": None}, ("gate.target is the label column's name", "None")),
        ({"target": ""}, ("gate.target",)),
        ({"target": 3}, ("gate.target",)),
        ({"target": "x" * 257}, ("gate.target",)),
        ({"holdout": ""}, ("holdout dataset name",)),
        ({"model_type": "ranker"}, ("gate.model_type is one of classifier, regressor", "'ranker'")),
        ({"thresholds": ["accuracy"]}, ("gate.thresholds map",)),
        ({"thresholds": "accuracy"}, ("gate.thresholds map",)),
        ({"thresholds": {f"m{i}": 0.5 for i in range(33)}}, ("up to 32 metrics",)),
        ({"production_window": "0s"}, ("gate.production_window must be from 1 s",)),
        ({"production_window_s": "5x"}, ("gate.production_window is seconds",)),
        ({"min_production_rows": 0}, ("gate.min_production_rows must be a whole number",)),
        ({"min_production_rows": 2.5}, ("gate.min_production_rows",)),
        ({"min_production_rows": 10**7}, ("gate.min_production_rows", "1 to 1000000")),
    ],
)
def test_bad_gate_fields_are_refused_by_name(
    fields: dict[str, Any], words: tuple[str, ...]
) -> None:
    target: dict[str, Any] = {"target": "churned"}
    refused(spec(gate={**target, **fields}), *words)


def test_a_rollout_that_is_not_a_mapping_is_refused() -> None:
    refused(spec(rollout=["canary"]), "rollout is a mapping, not list")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"low": "blue-green"}, ("rollout.low is one of direct, canary, shadow", "'blue-green'")),
        ({"high": None}, ("rollout.high is one of",)),
        ({"strategies": {"medium": "linear"}}, ("rollout.medium is one of", "'linear'")),
        ({"strategies": {"critical": "shadow"}}, ("rollout strategies are given for low",)),
        ({"canary_steps": []}, ("rollout.canary_steps is a list of 1 to 10",)),
        ({"canary_steps": "10,50"}, ("rollout.canary_steps is a list",)),
        ({"canary_steps": list(range(1, 12))}, ("rollout.canary_steps is a list",)),
        ({"canary_steps": [0, 50]}, ("rollout.canary_steps must be a whole number from 1 to 99",)),
        ({"canary_steps": [10, 100]}, ("rollout.canary_steps must be a whole number", "100")),
        ({"canary_steps": [10, 12.5]}, ("rollout.canary_steps must be a whole number",)),
        ({"canary_steps": [50, 10]}, ("rollout.canary_steps must rise, not [50, 10]",)),
        ({"canary_steps": [10, 10]}, ("rollout.canary_steps must rise",)),
        ({"hold": "5x"}, ("rollout.hold is seconds", "'5x'")),
        ({"hold": 0}, ("rollout.hold must be from 1 s",)),
        ({"hold_s": "31d"}, ("rollout.hold must be from 1 s to 30 days",)),
        ({"min_requests": 0}, ("rollout.min_requests must be a whole number from 1",)),
        ({"min_requests": True}, ("rollout.min_requests",)),
        ({"shadow": "200"}, ("rollout.shadow is {requests: N, max_time: DURATION}",)),
        ({"shadow": {"requests": -5}}, ("rollout.shadow.requests must be a whole number",)),
        ({"shadow_requests": "200"}, ("rollout.shadow.requests",)),
        ({"shadow": {"max_time": "0m"}}, ("rollout.shadow.max_time must be from 1 s",)),
        ({"shadow_max_s": "1w"}, ("rollout.shadow.max_time is seconds",)),
        ({"approval": "critical"}, ("rollout.approval lists risk levels", "['critical']")),
        ({"approval": ["high", "urgent"]}, ("rollout.approval lists risk levels",)),
        ({"approval": {"high": True}}, ("rollout.approval lists risk levels",)),
        ({"smoke_rows": 0}, ("rollout.smoke_rows must be a whole number from 1 to 10000",)),
        ({"smoke_rows": 10_001}, ("rollout.smoke_rows",)),
        ({"limits": [0.1]}, ("rollout.limits is a mapping",)),
    ],
)
def test_bad_rollout_fields_are_refused_by_name(
    fields: dict[str, Any], words: tuple[str, ...]
) -> None:
    refused(rollout(**fields), *words)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("max_error_rate", -0.1, ("rollout.limits.max_error_rate must be from 0 to 1",)),
        ("max_error_rate", 1.5, ("rollout.limits.max_error_rate must be from 0 to 1",)),
        ("max_error_rate", math.nan, ("rollout.limits.max_error_rate must be a number",)),
        ("max_error_rate", "1%", ("rollout.limits.max_error_rate must be a number",)),
        ("max_error_rate", True, ("rollout.limits.max_error_rate must be a number",)),
        ("max_p99_ratio", 0.5, ("rollout.limits.max_p99_ratio must be from 1 to 1000",)),
        ("max_p99_ratio", 1e6, ("rollout.limits.max_p99_ratio must be from 1 to 1000",)),
        ("max_p99_ratio", math.inf, ("rollout.limits.max_p99_ratio must be a number",)),
        ("max_metric_drop", -0.01, ("rollout.limits.max_metric_drop must be from 0",)),
        ("max_metric_drop", 1e13, ("rollout.limits.max_metric_drop must be from 0",)),
        ("max_metric_drop", -math.inf, ("rollout.limits.max_metric_drop must be a number",)),
        ("min_agreement", 1.01, ("rollout.limits.min_agreement must be from 0 to 1",)),
        ("min_agreement", None, ("rollout.limits.min_agreement must be a number",)),
        pytest.param(
            "max_error_rate",
            10**400,
            ("rollout.limits.max_error_rate must be from 0 to 1",),
            id="max_error_rate-huge-int",
        ),
    ],
)
def test_bad_limits_are_refused_by_name(field: str, value: object, words: tuple[str, ...]) -> None:
    refused(rollout(limits={field: value}), *words)


@pytest.mark.parametrize("strategies", [["low"], "canary", 5])
def test_strategies_that_are_not_a_mapping_are_refused(strategies: object) -> None:
    refused(rollout(strategies=strategies), "rollout.strategies")


def test_a_huge_whole_cooldown_is_refused() -> None:
    refused(spec(cooldown=10**400), "cooldown must be from")


# -- stored and read back ---------------------------------------------------------------------


def test_a_spec_survives_to_dict_json_and_from_dict() -> None:
    parsed = parse_spec(
        spec(
            cooldown="15m",
            gate={"target": "y", "holdout": "tx@2", "thresholds": {"f1": 0.7}},
            rollout={"canary_steps": [20, 60], "approval": ["medium", "high"], "hold": "1m"},
        )
    )
    stored = parsed.to_dict()
    assert stored["rollout"]["limits"]["max_metric_drop"] == 0.02
    assert PolicySpec.from_dict(stored) == parsed
    assert PolicySpec.from_dict(json.loads(json.dumps(stored))) == parsed


def test_the_defaults_survive_a_round_trip() -> None:
    parsed = parse_spec(spec())
    assert PolicySpec.from_dict(json.loads(json.dumps(parsed.to_dict()))) == parsed


def test_a_bad_stored_spec_is_refused_on_reading() -> None:
    stored = parse_spec(spec()).to_dict()
    stored["rollout"]["canary_steps"] = [50, 10]
    with pytest.raises(InvalidInput, match=r"rollout\.canary_steps must rise"):
        PolicySpec.from_dict(stored)
