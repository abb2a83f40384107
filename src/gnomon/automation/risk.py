"""Change risk: how risky it is to replace the champion with a candidate version, read from
what differs between the two versions' lineage. Pure rules over plain facts (gathered by
:mod:`gnomon.automation.facts`), so a gate can classify facts it read anywhere.

| change                                                         | risk   | kind         |
|----------------------------------------------------------------|--------|--------------|
| serving code bug fix (every commit in the range is a fix)      | low    | code         |
| library updates                                                | low    | libraries    |
| base image update                                              | low    | image        |
| minor training data change                                     | low    | data         |
| new serving features (feature commits; new outputs)            | medium | code/outputs |
| code whose commits cannot be read as fixes                     | medium | code         |
| API change: the input contract's columns or types              | medium | contract     |
| major training data change (refresh, relabel, many rows)       | medium | data         |
| hyperparameter tuning (params differ)                          | medium | params       |
| architecture or model type change (flavor or model class)      | high   | architecture |

The overall level is the highest of the changes found; with none found it is low, because
nothing but the version changed. Every change carries a reason a person can read, naming at
most ``MAX_NAMED`` of the things that differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from gnomon.checks import shown
from gnomon.errors import InvalidInput

Level = Literal["low", "medium", "high"]
LEVELS: Final[tuple[Level, ...]] = ("low", "medium", "high")  # in order of risk
KINDS: Final = (
    "code",
    "libraries",
    "image",
    "data",
    "contract",
    "outputs",
    "params",
    "architecture",
)
MAX_NAMED: Final = 5  # things named in one reason; the rest are counted
NOTHING_CHANGED: Final = (
    "nothing but the version changed: same code, libraries, image, data, contract, "
    "parameters and model type"
)
_MAX_VALUE: Final = 60  # characters of one value (a param, a subject) shown in a reason

# Conventional commits ("fix:", "fix(api):") and plain English ("Fix crash", "hotfix: ...").
# "fix!:" is a breaking change, not a fix, so the character after the word must be ':' or
# a space.
_FIX = re.compile(r"^(?:fix|fixes|fixed|bugfix|hotfix|bug fix|hot fix)(?:\([^)]*\))?(?::|\s)", re.I)
_FEATURE = re.compile(r"^(?:(?:feat|feature)(?:\([^)]*\))?!?:|(?:add|adds|added)\s)", re.I)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the versions: ``kind`` is one of ``KINDS``."""

    kind: str
    level: Level
    reason: str


@dataclass(frozen=True, slots=True)
class Risk:
    """The overall ``level`` (the highest of the changes') and the changes, riskiest first."""

    level: Level
    changes: tuple[Change, ...] = ()

    @property
    def reasons(self) -> list[str]:
        return [change.reason for change in self.changes] or [NOTHING_CHANGED]

    def to_dict(self) -> dict[str, Any]:
        changes = [{"kind": c.kind, "level": c.level, "reason": c.reason} for c in self.changes]
        return {"level": self.level, "changes": changes, "reasons": self.reasons}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Risk:
        """What ``to_dict`` wrote (``reasons`` is derived, so it is not read back).

        Raises:
            InvalidInput: not that shape: an unknown level or kind, a reason that is not text.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("changes", []), list):
            raise InvalidInput(f"a risk is a mapping with 'level' and 'changes', got {shown(data)}")
        changes = tuple(_change(item) for item in data.get("changes", []))
        return cls(_level(data.get("level")), changes)


def _change(data: object) -> Change:
    if not isinstance(data, Mapping):
        raise InvalidInput(f"a risk's change is a mapping, got {shown(data)}")
    kind, reason = data.get("kind"), data.get("reason")
    if kind not in KINDS:
        raise InvalidInput(f"unknown change kind {shown(kind)}; expected one of {list(KINDS)}")
    if not isinstance(reason, str):
        raise InvalidInput(f"the reason of a {kind} change must be text, got {shown(reason)}")
    return Change(cast(str, kind), _level(data.get("level")), reason)


def _level(value: object) -> Level:
    if value not in LEVELS:
        raise InvalidInput(f"unknown risk level {shown(value)}; expected one of {list(LEVELS)}")
    return value


@dataclass(frozen=True, slots=True)
class VersionFacts:
    """What a model version's lineage says. ``commit_subjects`` (the candidate's) are the
    subjects of the commits from the champion's commit to this one; empty when the
    repository could not be read. ``packages`` maps a normalised name to its version;
    ``inputs`` and ``outputs`` map a contract column to its type (``None``: no contract);
    ``training_data`` is ``NAME@VERSION`` (or whatever text the model recorded)."""

    model: str
    version: int
    flavor: str
    model_class: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    commit: str | None = None
    commit_subjects: tuple[str, ...] = ()
    packages: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    inputs: dict[str, str] | None = None
    outputs: dict[str, str] | None = None
    training_data: str | None = None


@dataclass(frozen=True, slots=True)
class DataDiff:
    """How two training dataset versions differ. ``rows_changed_fraction`` is rows added,
    removed and changed over the larger row count (files, for versions of plain files);
    ``labels_changed_fraction`` is the share of rows found in both whose label changed
    (``None``: not computed)."""

    rows_before: int
    rows_after: int
    rows_changed_fraction: float
    labels_changed_fraction: float | None = None
    schema_changed: bool = False
    detail: str = ""


@dataclass(frozen=True)
class RiskRules:
    """Where a training data change becomes major, and packages whose version never matters."""

    major_rows_fraction: float = 0.10
    major_labels_fraction: float = 0.05
    ignored_packages: frozenset[str] = frozenset({"pip", "setuptools", "wheel"})

    def __post_init__(self) -> None:
        for name in ("major_rows_fraction", "major_labels_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise InvalidInput(
                    f"{name} must be a fraction above 0 and at most 1, got {value!r}"
                )


def classify(
    candidate: VersionFacts,
    champion: VersionFacts,
    data: DataDiff | None = None,
    rules: RiskRules = RiskRules(),
) -> Risk:
    """The risk of serving ``candidate`` in place of ``champion``: every change found, and
    the highest of their levels (low when none is found).

    Args:
        data: how the two versions' training data differ, when they do and it was measured.
        rules: the thresholds of a major data change, and packages to ignore.
    """
    found = [
        change
        for change in (
            _architecture(candidate, champion),
            _code(candidate, champion),
            _contract(candidate, champion),
            _outputs(candidate, champion),
            _params(candidate, champion),
            _data(candidate, champion, data, rules),
            _libraries(candidate, champion, rules),
            _image(candidate, champion),
        )
        if change is not None
    ]
    found.sort(key=lambda change: -LEVELS.index(change.level))  # stable: riskiest first
    level = found[0].level if found else "low"
    return Risk(level, tuple(found))


# -- each kind of change ---------------------------------------------------------------------


def _architecture(new: VersionFacts, old: VersionFacts) -> Change | None:
    parts = []
    if new.flavor != old.flavor:
        parts.append(f"flavor {old.flavor}→{new.flavor}")
    if new.model_class and old.model_class and _class_differs(new.model_class, old.model_class):
        parts.append(f"model class {_class_pair(old.model_class, new.model_class)}")
    if not parts:
        return None
    return Change("architecture", "high", f"architecture or model type changed: {', '.join(parts)}")


def _class_differs(a: str, b: str) -> bool:
    # A library update may move a class between private modules (sklearn.linear_model.
    # _logistic): the same class name from the same package is the same model type.
    return a.rpartition(".")[2] != b.rpartition(".")[2] or a.split(".")[0] != b.split(".")[0]


def _class_pair(old: str, new: str) -> str:
    short_old, short_new = old.rpartition(".")[2], new.rpartition(".")[2]
    if short_old == short_new:  # same name from another package: the full names tell them apart
        return f"{_value(old)}→{_value(new)}"
    return f"{_value(short_old)}→{_value(short_new)}"


def _code(new: VersionFacts, old: VersionFacts) -> Change | None:
    if not new.commit or not old.commit or new.commit == old.commit:
        return None
    span = f"{old.commit[:7]}..{new.commit[:7]}"
    subjects = [s.strip() for s in new.commit_subjects if s.strip()]
    if not subjects:
        return Change(
            "code",
            "medium",
            f"code changed ({span}) and its commits could not be read as fixes: the repository "
            "is not reachable here, or the candidate's commit does not follow the champion's",
        )
    features = [s for s in subjects if _FEATURE.match(s)]
    if features:
        return Change(
            "code", "medium", f"new serving features in the code ({span}): {_subjects(features)}"
        )
    others = [s for s in subjects if not _FIX.match(s)]
    if not others:
        count = _count(len(subjects), "commit")
        return Change(
            "code", "low", f"serving code bug fix ({span}, {count}): {_subjects(subjects)}"
        )
    return Change(
        "code",
        "medium",
        f"code changed ({span}) and {len(others)} of {_count(len(subjects), 'commit')} could "
        f"not be read as fixes: {_subjects(others)}",
    )


def _subjects(subjects: Sequence[str]) -> str:
    return _few([repr(_value(s)) for s in subjects])


def _contract(new: VersionFacts, old: VersionFacts) -> Change | None:
    if new.inputs == old.inputs:
        return None
    if new.inputs is None or old.inputs is None:
        which = "candidate" if new.inputs is None else "champion"
        what = f"the {which} records no input contract"
    else:
        what = f"input columns changed: {_columns_diff(old.inputs, new.inputs)}"
    return Change("contract", "medium", f"API change (the serving contract): {what}")


def _outputs(new: VersionFacts, old: VersionFacts) -> Change | None:
    if new.outputs == old.outputs or new.outputs is None or old.outputs is None:
        return None  # a missing contract is the input contract's change, said once
    diff = _columns_diff(old.outputs, new.outputs)
    return Change("outputs", "medium", f"new serving features: outputs changed: {diff}")


def _columns_diff(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    added = [f"{_value(c)} ({new[c]})" for c in new if c not in old]
    removed = [_value(c) for c in old if c not in new]
    retyped = [f"{_value(c)} {old[c]}→{new[c]}" for c in new if c in old and old[c] != new[c]]
    parts = [
        f"{title} {_few(items)}"
        for title, items in (("added", added), ("removed", removed), ("retyped", retyped))
        if items
    ]
    return "; ".join(parts) or "reordered"


def _params(new: VersionFacts, old: VersionFacts) -> Change | None:
    changed = _changed(old.params, new.params)
    if not changed:
        return None
    return Change("params", "medium", f"hyperparameters changed: {changed}")


def _libraries(new: VersionFacts, old: VersionFacts, rules: RiskRules) -> Change | None:
    ignored = {name.lower() for name in rules.ignored_packages}
    changed = _changed(
        {k: v for k, v in old.packages.items() if k.lower() not in ignored},
        {k: v for k, v in new.packages.items() if k.lower() not in ignored},
    )
    if not changed:
        return None
    return Change("libraries", "low", f"library updates: {changed}")


def _image(new: VersionFacts, old: VersionFacts) -> Change | None:
    if new.image == old.image:
        return None
    return Change(
        "image",
        "low",
        f"base image update: {_value(old.image or 'none')}→{_value(new.image or 'none')}",
    )


def _data(
    new: VersionFacts, old: VersionFacts, data: DataDiff | None, rules: RiskRules
) -> Change | None:
    if new.training_data == old.training_data:
        return None
    span = f"{_value(old.training_data or 'none')}→{_value(new.training_data or 'none')}"
    if data is None:
        why = (
            "no data diff was measured"
            if new.training_data and old.training_data
            else "one of the versions records no training data"
        )
        return Change(
            "data", "medium", f"training data changed ({span}); how much is unknown: {why}"
        )
    major = _major(data, rules)
    if major:
        reason = f"major training data change ({span}): {'; '.join(major)}"
        return Change("data", "medium", _with_detail(reason, data))
    shares = f"{_percent(data.rows_changed_fraction)} of rows changed"
    reason = f"minor training data change ({span}): {shares}"
    return Change("data", "low", _with_detail(reason, data))


def _major(data: DataDiff, rules: RiskRules) -> list[str]:
    """What makes the change major: each threshold reached, and a schema change."""
    found = []
    if data.rows_changed_fraction >= rules.major_rows_fraction:
        found.append(
            f"{_percent(data.rows_changed_fraction)} of rows changed "
            f"(major from {_percent(rules.major_rows_fraction)})"
        )
    labels = data.labels_changed_fraction
    if labels is not None and labels >= rules.major_labels_fraction:
        found.append(
            f"{_percent(labels)} of labels changed (major from "
            f"{_percent(rules.major_labels_fraction)})"
        )
    if data.schema_changed:
        found.append("the schema changed")
    return found


def _with_detail(reason: str, data: DataDiff) -> str:
    return f"{reason}; {data.detail}" if data.detail else reason


# -- wording ---------------------------------------------------------------------------------


def _changed(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """``key old→new`` for each key whose value differs (``unset`` where absent), sorted."""
    keys = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return _few([f"{_value(k)} {_value(old.get(k))}→{_value(new.get(k))}" for k in keys])


def _few(items: Sequence[str]) -> str:
    more = f", and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else ""
    return ", ".join(items[:MAX_NAMED]) + more


def _value(value: str | None) -> str:
    if value is None:
        return "unset"
    text = " ".join(value.split())  # a newline in a param or subject would break the line
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.3g}%"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
