"""classify: one constructed pair of versions per row of the change-risk table, the highest
level wins, reasons stay short, and a risk survives JSON."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gnomon.automation.risk import (
    MAX_NAMED,
    NOTHING_CHANGED,
    Change,
    DataDiff,
    Risk,
    RiskRules,
    VersionFacts,
    classify,
)
from gnomon.errors import InvalidInput

CHAMPION = VersionFacts(
    model="churn",
    version=1,
    flavor="sklearn",
    model_class="sklearn.linear_model._logistic.LogisticRegression",
    params={"C": "1.0", "max_iter": "100"},
    commit="a" * 40,
    packages={"scikit-learn": "1.4.2", "numpy": "1.26.4", "python": "3.11.7"},
    image="python:3.11-slim",
    inputs={"amount": "float64", "age": "int64"},
    outputs={"prediction": "int64"},
    training_data="tx@1",
)
NEW_COMMIT = "b" * 40


def candidate(**changes: object) -> VersionFacts:
    return replace(CHAMPION, version=2, **changes)  # type: ignore[arg-type]


def only(risk: Risk) -> Change:
    assert len(risk.changes) == 1, risk.reasons
    return risk.changes[0]


def test_nothing_but_the_version_is_low_and_says_so() -> None:
    risk = classify(candidate(), CHAMPION)
    assert (risk.level, risk.changes, risk.reasons) == ("low", (), [NOTHING_CHANGED])


# -- one pair per row of the table -----------------------------------------------------------


@pytest.mark.parametrize(
    "subjects",
    [
        ("fix: handle empty rows", "fix(api): keep the column order"),
        ("Fix crash on NaN amounts",),
        ("hotfix: timeout", "bugfix: off by one"),
    ],
)
def test_a_range_of_fixes_is_a_low_serving_code_bug_fix(subjects: tuple[str, ...]) -> None:
    risk = classify(candidate(commit=NEW_COMMIT, commit_subjects=subjects), CHAMPION)
    change = only(risk)
    assert (risk.level, change.kind, change.level) == ("low", "code", "low")
    assert change.reason.startswith("serving code bug fix (aaaaaaa..bbbbbbb")
    assert repr(subjects[0]) in change.reason


def test_library_updates_are_low_and_name_old_and_new_versions() -> None:
    packages = {**CHAMPION.packages, "scikit-learn": "1.5.0", "joblib": "1.4.2"}
    change = only(classify(candidate(packages=packages), CHAMPION))
    assert (change.kind, change.level) == ("libraries", "low")
    assert change.reason == "library updates: joblib unset→1.4.2, scikit-learn 1.4.2→1.5.0"


def test_ignored_packages_are_no_change() -> None:
    packages = {**CHAMPION.packages, "pip": "24.1", "setuptools": "70.0"}
    assert classify(candidate(packages=packages), CHAMPION).changes == ()
    rules = RiskRules(ignored_packages=frozenset({"numpy"}))
    bumped = {**CHAMPION.packages, "numpy": "2.0.0"}
    assert classify(candidate(packages=bumped), CHAMPION, rules=rules).changes == ()
    assert classify(candidate(packages=bumped), CHAMPION).level == "low"


def test_a_base_image_update_is_low() -> None:
    change = only(classify(candidate(image="python:3.12-slim"), CHAMPION))
    assert (change.kind, change.level) == ("image", "low")
    assert change.reason == "base image update: python:3.11-slim→python:3.12-slim"


def test_a_minor_training_data_change_is_low() -> None:
    data = DataDiff(1000, 1020, 0.0196, 0.0, False, "1000→1020 rows, same columns")
    change = only(classify(candidate(training_data="tx@2"), CHAMPION, data))
    assert (change.kind, change.level) == ("data", "low")
    assert change.reason == (
        "minor training data change (tx@1→tx@2): 1.96% of rows changed; "
        "1000→1020 rows, same columns"
    )


def test_new_outputs_are_medium_new_serving_features() -> None:
    outputs = {"prediction": "int64", "score": "float64"}
    change = only(classify(candidate(outputs=outputs), CHAMPION))
    assert (change.kind, change.level) == ("outputs", "medium")
    assert change.reason == "new serving features: outputs changed: added score (float64)"


def test_feature_commits_are_medium_new_serving_features() -> None:
    subjects = ("fix: typo", "feat(api): return the score")
    change = only(classify(candidate(commit=NEW_COMMIT, commit_subjects=subjects), CHAMPION))
    assert (change.kind, change.level) == ("code", "medium")
    assert change.reason.startswith("new serving features in the code (aaaaaaa..bbbbbbb)")
    assert "'feat(api): return the score'" in change.reason


def test_an_input_contract_change_is_a_medium_api_change() -> None:
    inputs = {"amount": "string", "city": "string"}
    change = only(classify(candidate(inputs=inputs), CHAMPION))
    assert (change.kind, change.level) == ("contract", "medium")
    assert change.reason == (
        "API change (the serving contract): input columns changed: added city (string); "
        "removed age; retyped amount float64→string"
    )
    dropped = only(classify(candidate(inputs=None, outputs=None), CHAMPION))
    assert dropped.reason.endswith("the candidate records no input contract")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (DataDiff(1000, 1000, 0.5, None, False), "50% of rows changed (major from 10%)"),
        (DataDiff(1000, 1000, 0.06, 0.06, False), "6% of labels changed (major from 5%)"),
        (DataDiff(1000, 1000, 0.0, 0.0, True), "the schema changed"),
    ],
)
def test_a_major_training_data_change_is_medium(data: DataDiff, why: str) -> None:
    change = only(classify(candidate(training_data="tx@2"), CHAMPION, data))
    assert (change.kind, change.level) == ("data", "medium")
    assert change.reason == f"major training data change (tx@1→tx@2): {why}"


def test_changed_training_data_without_a_diff_is_medium_and_says_why() -> None:
    change = only(classify(candidate(training_data="tx@2"), CHAMPION))
    assert (change.kind, change.level) == ("data", "medium")
    assert change.reason.endswith("how much is unknown: no data diff was measured")
    missing = only(classify(candidate(training_data=None), CHAMPION))
    assert missing.reason.endswith("one of the versions records no training data")


def test_thresholds_come_from_the_rules() -> None:
    data = DataDiff(1000, 1000, 0.06, None, False)
    lenient = classify(candidate(training_data="tx@2"), CHAMPION, data)
    strict = classify(candidate(training_data="tx@2"), CHAMPION, data, RiskRules(0.05))
    assert (lenient.level, strict.level) == ("low", "medium")


def test_hyperparameter_tuning_is_medium_and_names_the_params() -> None:
    params = {**CHAMPION.params, "C": "0.1", "max_iter": "300"}
    change = only(classify(candidate(params=params), CHAMPION))
    assert (change.kind, change.level) == ("params", "medium")
    assert change.reason == "hyperparameters changed: C 1.0→0.1, max_iter 100→300"


def test_another_flavor_is_a_high_architecture_change() -> None:
    change = only(classify(candidate(flavor="xgboost", model_class=None), CHAMPION))
    assert (change.kind, change.level) == ("architecture", "high")
    assert change.reason == "architecture or model type changed: flavor sklearn→xgboost"


def test_another_model_class_is_a_high_architecture_change() -> None:
    forest = "sklearn.ensemble._forest.RandomForestClassifier"
    change = only(classify(candidate(model_class=forest), CHAMPION))
    assert (change.kind, change.level) == ("architecture", "high")
    assert change.reason == (
        "architecture or model type changed: model class LogisticRegression→RandomForestClassifier"
    )


def test_a_class_moved_between_private_modules_is_the_same_model_type() -> None:
    moved = candidate(model_class="sklearn.linear_model.logistic.LogisticRegression")
    assert classify(moved, CHAMPION).changes == ()
    other = candidate(model_class="cuml.linear_model.LogisticRegression")
    reason = only(classify(other, CHAMPION)).reason
    assert "sklearn.linear_model._logistic.LogisticRegression→cuml." in reason


def test_an_unknown_model_class_is_no_change() -> None:
    assert classify(candidate(model_class=None), CHAMPION).changes == ()


# -- code that cannot be read as fixes --------------------------------------------------------


@pytest.mark.parametrize(
    "subjects",
    [
        ("refactor the loader",),
        ("fix!: drop the v1 endpoint",),  # breaking, not a fix
        ("fixup! typo", "fix: ok"),
    ],
)
def test_commits_that_are_not_all_fixes_are_medium(subjects: tuple[str, ...]) -> None:
    change = only(classify(candidate(commit=NEW_COMMIT, commit_subjects=subjects), CHAMPION))
    assert (change.kind, change.level) == ("code", "medium")
    assert "could not be read as fixes" in change.reason
    assert repr(subjects[0]) in change.reason


def test_an_unreachable_repository_is_medium_code_change() -> None:
    change = only(classify(candidate(commit=NEW_COMMIT), CHAMPION))
    assert (change.kind, change.level) == ("code", "medium")
    assert change.reason.startswith("code changed (aaaaaaa..bbbbbbb) and its commits could not")


def test_no_commit_on_either_side_is_no_code_change() -> None:
    no_commit = replace(CHAMPION, commit=None)
    assert classify(candidate(commit=NEW_COMMIT), no_commit).changes == ()


# -- the overall level and the wording --------------------------------------------------------


def test_the_highest_level_wins_and_changes_are_listed_riskiest_first() -> None:
    new = candidate(
        packages={**CHAMPION.packages, "numpy": "2.0.0"},
        params={**CHAMPION.params, "C": "2.0"},
        model_class="sklearn.ensemble._forest.RandomForestClassifier",
    )
    risk = classify(new, CHAMPION)
    assert risk.level == "high"
    assert [(c.kind, c.level) for c in risk.changes] == [
        ("architecture", "high"),
        ("params", "medium"),
        ("libraries", "low"),
    ]
    medium = classify(replace(new, model_class=CHAMPION.model_class), CHAMPION)
    assert medium.level == "medium"
    assert medium.reasons == [c.reason for c in medium.changes]


def test_reasons_name_a_few_and_count_the_rest() -> None:
    params = {f"p{i:02}": str(i) for i in range(12)}
    reason = only(classify(candidate(params=params), replace(CHAMPION, params={}))).reason
    named = [f"p{i:02} unset→{i}" for i in range(MAX_NAMED)]
    assert reason == f"hyperparameters changed: {', '.join(named)}, and 7 more"
    long = "x" * 500 + "\nsecond line"
    shown = only(classify(candidate(params={"C": long, "max_iter": "100"}), CHAMPION)).reason
    assert len(shown) < 120 and "\n" not in shown and shown.endswith("…")


def test_a_risk_round_trips_through_json() -> None:
    risk = classify(candidate(flavor="xgboost", params={"C": "2"}), CHAMPION)
    data = json.loads(json.dumps(risk.to_dict()))
    assert data["level"] == "high" and data["reasons"] == risk.reasons
    assert Risk.from_dict(data) == risk
    empty = Risk("low")
    assert Risk.from_dict(json.loads(json.dumps(empty.to_dict()))) == empty


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"level": "severe", "changes": []}, "unknown risk level 'severe'"),
        ({"level": "low", "changes": [{"kind": "mood", "level": "low", "reason": ""}]}, "kind"),
        ({"level": "low", "changes": [{"kind": "code", "level": "low", "reason": 3}]}, "text"),
        ({"level": "low", "changes": "nope"}, "a risk is a mapping"),
        (["low"], "a risk is a mapping"),
    ],
)
def test_from_dict_refuses_another_shape(data: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Risk.from_dict(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, 1.5, -0.1, True])
def test_rules_refuse_a_threshold_that_is_not_a_fraction(value: object) -> None:
    with pytest.raises(InvalidInput, match="major_rows_fraction must be a fraction"):
        RiskRules(major_rows_fraction=value)  # type: ignore[arg-type]
