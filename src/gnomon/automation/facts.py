"""The facts change risk is classified from, gathered through the SDK client (embedded or
remote): a version's model folder, its run's params and git tags, its training data; the
commits between two versions; and how much two dataset versions differ."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from gnomon.automation.risk import DataDiff, Risk, RiskRules, VersionFacts, classify
from gnomon.data.entities import DatasetKind
from gnomon.errors import InvalidInput, NotFound
from gnomon.modelfolder.spec import MODEL_FILE, ModelSpec, read_spec
from gnomon.tracking.capture import REQUIREMENTS_ARTIFACT

if TYPE_CHECKING:
    import pandas as pd

    from gnomon.data.entities import DatasetDiff, DatasetVersion
    from gnomon.modelfolder.contract import ColumnSpec
    from gnomon.sdk import Client
    from gnomon.tracking.entities import Run

logger = logging.getLogger(__name__)

IMAGE_TAG: Final = "gnomon.image"  # a version's serving image, when its builder recorded one
COMMIT_TAG: Final = "gnomon.git.commit"
ROOT_TAG: Final = "gnomon.git.root"
ESTIMATOR_TAG: Final = "estimator_class"  # set by scikit-learn autologging
TRAINING: Final = "training"  # the run input context of a training dataset version
# Table versions are compared row by row in memory: larger ones are not compared.
MAX_COMPARE_BYTES: Final = 128 * 2**20
GIT_TIMEOUT_S: Final = 10.0
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")  # also keeps an option ("--output=x") away from git
_REF = re.compile(r".+@\d+")
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)")
# Flavors whose model file is a pickled estimator: its class is read by loading it.
_ESTIMATOR_FLAVORS: Final = ("sklearn", "lightgbm")


def version_facts(client: Client, model: str, version: int) -> VersionFacts:
    """What version ``version`` of ``model`` records: flavor and model class, its run's params
    and commit, libraries, image, contract and training data (``commit_subjects`` is left
    empty: it takes the other version, see :func:`assess`).

    The model folder is downloaded (checked against its recorded digests) to read its
    description; a scikit-learn or LightGBM model is loaded to read its estimator's class.

    Raises:
        NotFound: the model or version does not exist.
    """
    return _gathered(client, model, version)[0]


def _gathered(client: Client, model: str, version: int) -> tuple[VersionFacts, str | None]:
    """The version's facts, and the root of the git repository its run was started in."""
    found = client.registry.get_version(model, version)
    run = _run(client, found.run_id)
    tags = run.tags if run is not None else {}
    with tempfile.TemporaryDirectory(prefix="gnomon-risk-") as tmp:
        folder = client.registry.download_version(f"models:/{model}/{found.version}", Path(tmp))
        spec = _spec(folder)
        model_class = _model_class(folder, spec, tags)
        packages = _packages(client, folder, spec, run)
    contract = spec.contract if spec is not None else None
    facts = VersionFacts(
        model=found.model_name,
        version=found.version,
        flavor=found.flavor,
        model_class=model_class,
        params=dict(run.params) if run is not None else {},
        commit=tags.get(COMMIT_TAG),
        packages=packages,
        image=found.tags.get(IMAGE_TAG),
        inputs=_columns(contract.inputs) if contract is not None else None,
        outputs=_columns(contract.outputs) if contract is not None else None,
        training_data=_training_data(client, spec, run),
    )
    return facts, tags.get(ROOT_TAG)


def _run(client: Client, run_id: str | None) -> Run | None:
    if run_id is None:
        return None  # imported from MLflow: no run
    try:
        return client.get_run(run_id)
    except NotFound:  # deleted for good; the version outlives it
        return None


def _spec(folder: Path) -> ModelSpec | None:
    if not (folder / MODEL_FILE).is_file():
        return None  # an MLflow model folder (registered through MLflow's API)
    return read_spec(folder)


def _columns(columns: list[ColumnSpec]) -> dict[str, str]:
    return {column.name: column.dtype for column in columns}


def _model_class(folder: Path, spec: ModelSpec | None, tags: dict[str, str]) -> str | None:
    """The class a model folder says, or that loading its estimator shows; else the run's
    autologging tag; ``None`` when nothing tells."""
    if spec is not None:
        for value in (spec.metadata.get("model_class"), spec.loader.get("class")):
            if isinstance(value, str) and value:
                return value  # declared, or a pyfunc model's own class
        kind = spec.loader.get("kind")
        if spec.flavor in ("xgboost", "lightgbm") and isinstance(kind, str) and kind != "sklearn":
            return f"{spec.flavor}.{kind}"
        if spec.flavor in _ESTIMATOR_FLAVORS:
            loaded = _estimator_class(folder, spec)
            if loaded is not None:
                return loaded
    return tags.get(ESTIMATOR_TAG) or None


def _estimator_class(folder: Path, spec: ModelSpec) -> str | None:
    """The class of the folder's estimator (a pipeline's final step), loaded from files the
    download has checked against the registry's digests."""
    from gnomon.modelfolder.flavors import get_flavor, require_libraries

    try:
        flavor = get_flavor(spec.flavor)
        require_libraries(flavor)
        model = getattr(flavor.load(folder, spec), "model", None)
    except Exception as exc:  # unpickling runs the model's own code: whatever fails, unknown
        logger.info("gnomon: the class of the %s model is unknown: %s", spec.flavor, exc)
        return None
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], tuple):
        model = steps[-1][-1]
    if model is None:
        return None
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _packages(
    client: Client, folder: Path, spec: ModelSpec | None, run: Run | None
) -> dict[str, str]:
    """What serving installs: the model's pinned requirements (and its Python version);
    else an MLflow folder's requirements.txt; else what the run's process had installed."""
    if spec is not None and spec.requirements:
        return {**_requirements(spec.requirements), "python": spec.python_version}
    listed = folder / "requirements.txt"
    if listed.is_file():
        return _requirements(listed.read_text(encoding="utf-8", errors="replace").splitlines())
    if run is None:
        return {}
    try:
        recorded = client.tracking.load_bytes(client.scope, run.id, REQUIREMENTS_ARTIFACT)
    except NotFound:  # captured off: nothing recorded
        return {}
    return _requirements(recorded.decode("utf-8", errors="replace").splitlines())


def _requirements(lines: list[str]) -> dict[str, str]:
    """``name==1.2`` lines as ``{name: "1.2"}``: names normalised (PEP 503), any other
    specifier kept as written; comments and pip options left out."""
    found: dict[str, str] = {}
    for line in lines:
        text = line.split("#", 1)[0].split(";", 1)[0].strip()
        match = _REQUIREMENT.fullmatch(text) if text and not text.startswith("-") else None
        if match is None:
            continue
        name = re.sub(r"[-_.]+", "-", match[1]).lower()
        spec = match[2].strip()
        found[name] = spec[2:].strip() if spec.startswith("==") else spec or "any"
    return found


def _training_data(client: Client, spec: ModelSpec | None, run: Run | None) -> str | None:
    """The dataset version the model names, else the run's last ``training`` input, else the
    model's text (as monitoring finds a model's reference)."""
    text = spec.training_data if spec is not None else None
    if text and _REF.fullmatch(text):
        return text
    datasets = _datasets(client)
    if run is not None and datasets is not None:
        inputs = [i for i in datasets.inputs(run.id) if i.context == TRAINING]
        if inputs:
            return str(inputs[-1].ref)
    return text


def _datasets(client: Client) -> Any:
    """``client.datasets`` (a ``DatasetsApi``), or ``None`` where the store offers none.
    Typed ``Any``: the Protocol's ``list`` method hides the builtin from mypy in its own
    annotations (``-> list[RunInput]``)."""
    try:
        return client.datasets
    except AttributeError:
        return None


# -- commits ---------------------------------------------------------------------------------


def commit_subjects(
    repo_root: str | None, base: str | None, head: str | None, limit: int = 200
) -> tuple[str, ...]:
    """The subjects of the commits in ``base..head`` (merges left out), newest first.

    Empty when they cannot be read: no repository at ``repo_root`` here, a commit it does
    not hold or that is not a hex id, git missing or slower than ``GIT_TIMEOUT_S``, or a
    range longer than ``limit`` (too long to be read as a handful of fixes).

    Raises:
        InvalidInput: ``limit`` is not a positive whole number.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a whole number from 1, got {limit!r}")
    if not (repo_root and base and head and _SHA.fullmatch(base) and _SHA.fullmatch(head)):
        return ()
    if not Path(repo_root).is_dir():
        return ()
    command = ["git", "-C", repo_root, "log", "--no-merges", "--format=%s"]
    command += [f"--max-count={limit + 1}", f"{base}..{head}", "--"]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=GIT_TIMEOUT_S,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    subjects = tuple(line for line in done.stdout.splitlines() if line.strip())
    if done.returncode != 0 or len(subjects) > limit:
        return ()
    return subjects


# -- data ------------------------------------------------------------------------------------


def data_diff(
    client: Client, before: str, after: str, *, label: str | None = None
) -> DataDiff | None:
    """How dataset version ``after`` differs from ``before`` (``NAME@VERSION`` each).

    Table versions are compared row by row: a row is unchanged when an identical row is in
    the other version (as many times). With ``label``, a row whose other columns are found
    in the other version with another label counts as relabelled. Versions of plain files
    are compared file by file. ``None`` when they cannot be compared: no datasets here, a
    table and plain files, or a table over ``MAX_COMPARE_BYTES``.

    Raises:
        NotFound: a dataset or version does not exist.
        InvalidInput: a malformed reference, or ``label`` is a column of neither version.
    """
    datasets = _datasets(client)
    if datasets is None:
        return None
    old, new = datasets.version(before), datasets.version(after)
    if old.kind == DatasetKind.FILES and new.kind == DatasetKind.FILES:
        return _files_diff(datasets.diff(old.ref, new.ref), old, new)
    if old.kind != new.kind or max(old.bytes, new.bytes) > MAX_COMPARE_BYTES:
        return None
    return _table_diff(datasets.load(old.ref), datasets.load(new.ref), label, (old, new))


def _files_diff(diff: DatasetDiff, old: DatasetVersion, new: DatasetVersion) -> DataDiff:
    touched = len(diff.added) + len(diff.removed) + len(diff.changed)
    detail = (
        f"{old.files}→{new.files} files: {len(diff.added)} added, {len(diff.removed)} "
        f"removed, {len(diff.changed)} changed"
    )
    return DataDiff(
        old.files, new.files, touched / max(old.files, new.files, 1), None, False, detail
    )


def _table_diff(
    before: pd.DataFrame,
    after: pd.DataFrame,
    label: str | None,
    versions: tuple[DatasetVersion, DatasetVersion],
) -> DataDiff:
    if label is not None and label not in before.columns and label not in after.columns:
        raise InvalidInput(
            f"label column {label!r} is in neither {versions[0].ref} nor {versions[1].ref}",
            {"label": label},
        )
    old_types, new_types = _types(before), _types(after)
    common = [c for c in old_types if c in new_types]
    labelled = label if label in common else None
    matched, compared = _matched_rows(before, after, common, labelled)
    rows_before, rows_after = len(before), len(after)
    largest = max(rows_before, rows_after)
    changed = max(rows_before - matched, rows_after - matched) / largest if largest else 0.0
    labels = (compared - matched) / compared if labelled is not None and compared else None
    detail = f"{rows_before}→{rows_after} rows, {_schema_detail(old_types, new_types)}"
    return DataDiff(rows_before, rows_after, changed, labels, old_types != new_types, detail=detail)


def _types(frame: pd.DataFrame) -> dict[str, str]:
    return {str(name): str(dtype) for name, dtype in frame.dtypes.items()}


def _matched_rows(
    before: pd.DataFrame, after: pd.DataFrame, common: list[str], label: str | None
) -> tuple[int, int]:
    """Rows identical in both versions (as multisets), and rows whose other columns are in
    both (paired as often as they occur in both); their difference were relabelled."""
    import pandas as pd

    if not common or before.empty or after.empty:
        return 0, 0
    counts = []
    for frame in (before, after):
        keys = _row_hashes(frame, [c for c in common if c != label])
        labels = _row_hashes(frame, [label] if label is not None else [])
        pairs = pd.DataFrame({"key": keys, "label": labels})
        counts.append(pairs.value_counts())
    both = pd.concat(counts, axis=1, keys=["before", "after"]).fillna(0)
    matched = int(both.min(axis=1).sum())
    compared = int(both.groupby(level="key").sum().min(axis=1).sum())
    return matched, compared


def _row_hashes(frame: pd.DataFrame, columns: list[str]) -> Any:
    import pandas as pd

    if not columns:  # the label is the only common column: every row has the same key
        return pd.Series(0, index=frame.index, dtype="uint64").to_numpy()
    # Columns in one order for both versions: a reordered table has the same rows.
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()


def _schema_detail(old: dict[str, str], new: dict[str, str]) -> str:
    added = [c for c in new if c not in old]
    removed = [c for c in old if c not in new]
    retyped = [f"{c} {old[c]}→{new[c]}" for c in new if c in old and old[c] != new[c]]
    parts = [
        f"columns {title}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}"
        for title, items in (("added", added), ("removed", removed), ("retyped", retyped))
        if items
    ]
    return "; ".join(parts) or "same columns"


# -- together --------------------------------------------------------------------------------


def assess(
    client: Client,
    model: str,
    candidate: int,
    champion: int,
    *,
    label: str | None = None,
    rules: RiskRules = RiskRules(),
) -> Risk:
    """The risk of serving version ``candidate`` of ``model`` in place of ``champion``:
    both versions' facts, the commits between them (read from the git repository the
    candidate's run recorded, when it is reachable here) and their training data's diff.

    Args:
        label: the label column of the training data, to measure relabelling.
        rules: where a data change becomes major, and packages to ignore.

    Raises:
        NotFound: the model or a version does not exist.
        InvalidInput: the two versions are the same one, or ``label`` is in neither dataset.
    """
    if candidate == champion:
        raise InvalidInput(
            f"the candidate and the champion are the same version ({model!r} {candidate})"
        )
    new, new_root = _gathered(client, model, candidate)
    old, old_root = _gathered(client, model, champion)
    if new.commit and old.commit and new.commit != old.commit:
        subjects = commit_subjects(new_root or old_root, old.commit, new.commit)
        new = replace(new, commit_subjects=subjects)
    data = _training_diff(client, old.training_data, new.training_data, label)
    return classify(new, old, data, rules)


def _training_diff(
    client: Client, before: str | None, after: str | None, label: str | None
) -> DataDiff | None:
    if before == after or not (before and _REF.fullmatch(before)):
        return None
    if not (after and _REF.fullmatch(after)):
        return None  # a description, not a dataset version: nothing to compare
    try:
        return data_diff(client, before, after, label=label)
    except NotFound:  # a dataset deleted since: how much changed is unknown
        return None
