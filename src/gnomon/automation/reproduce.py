"""``gnomon reproduce RUN``: run a run again as it was recorded, and compare its metrics.

What a run records decides what can be re-run, and nothing else is guessed:

- A **script run** (``gnomon.start_run`` in a script, with its environment captured) records
  the script, the git commit and, when the tree was dirty, the diff. The script at that
  commit, with the diff applied, runs in a temporary ``git worktree`` with this Python, from
  the repository's root folder. Its command-line arguments are not recorded, so it runs with
  none; the params it logs are compared with the original's to show where that mattered.
- A **project run** (started by ``gnomon run``) records its project, commit, entry point
  and resolved params: the same entry point runs again at that commit with those params,
  command-line arguments included (see ``run_project``).
- A **pipeline run** records its pipeline function, its definition (each step's code hash)
  and its params, but no commit: it is run again from the code importable here, only when
  that code's definition equals the recorded one, with the same params and no cache.

The new run is tagged ``gnomon.reproduces=<original id>``; every metric of the original is
compared with the new run's within ``rtol``/``atol`` (and a pipeline's step outputs by digest).
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from gnomon.automation import run_project as projects
from gnomon.automation.launch import (
    check_timeout,
    child_environment,
    git,
    run_child,
    runs_tagged,
    said,
)
from gnomon.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gnomon.tracking.capture import DIFF_ARTIFACT, REQUIREMENTS_ARTIFACT, installed_packages
from gnomon.tracking.entities import Run, RunStatus

if TYPE_CHECKING:
    from gnomon.pipelines.api import PipelinesApi
    from gnomon.pipelines.entities import PipelineRun, StepRun
    from gnomon.sdk import Client

REPRODUCES_TAG = "gnomon.reproduces"
_ENTRY_TAG = "gnomon.source.entry_point"
_ROOT_TAG = "gnomon.git.root"
_PIPELINE_TAG = "gnomon.pipeline"
_STEP_TAGS = ("gnomon.pipeline.run", "gnomon.pipeline.step")  # a step's or component's run
_COMPONENT_TAG = "gnomon.component"
_NOT_SCRIPTS = ("<notebook>", "<interactive>")
_TRUNCATED = "# gnomon: diff truncated"

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class MetricComparison:
    metric: str
    original: float
    reproduced: float | None  # None: the re-run did not log it
    delta: float | None
    ok: bool


@dataclass(frozen=True, slots=True)
class OutputComparison:
    """A pipeline step's output, by content digest."""

    node: str
    output: str
    original: str
    reproduced: str | None
    ok: bool


@dataclass(frozen=True, slots=True)
class Reproduction:
    """What ``reproduce`` found. ``passed``: every metric within tolerance and every compared
    step output identical. Param and input differences explain a failure; alone they do not
    fail it (a param may hold a path that moved with the worktree)."""

    original_run_id: str
    new_run_id: str
    environment_differences: list[str]
    comparisons: list[MetricComparison]
    passed: bool
    param_differences: list[str] = field(default_factory=list)
    input_differences: list[str] = field(default_factory=list)
    outputs: list[OutputComparison] = field(default_factory=list)


def reproduce(
    client: Client,
    run_id: str,
    *,
    rtol: float = 1e-6,
    atol: float = 0.0,
    strict_env: bool = False,
    repo: Path | None = None,
    timeout: float | None = None,
    on_progress: Progress | None = None,
) -> Reproduction:
    """Run ``run_id`` again as it was recorded and compare the new run's metrics with it.

    Args:
        run_id: a tracking run, or a pipeline run's id.
        rtol, atol: a metric is reproduced when ``|new - old| <= atol + rtol * |old|``.
        strict_env: refuse when this Python or its packages differ from the recorded ones.
        repo: where the recorded repository is now (default: the recorded root).
        timeout: seconds a script may run.
        on_progress: told what is being done, for a spinner.

    Raises:
        NotFound: the run, its repository, commit or script, or a dataset version it used.
        InvalidInput: the run cannot be reproduced (no commit, a notebook, a dirty tree
            without its diff, changed pipeline code), or with ``strict_env`` the environment
            differs.
        Conflict: the run is still running.
        UserCodeError: the re-run failed.
    """
    if not all(math.isfinite(t) and t >= 0 for t in (rtol, atol)):
        raise InvalidInput(f"rtol and atol must be finite and >= 0, not {rtol} and {atol}")
    check_timeout(timeout)
    progress = on_progress or (lambda _: None)
    original = _original(client, run_id)
    outputs: list[OutputComparison] = []
    if _PIPELINE_TAG in original.tags:
        new, outputs, differences = _rerun_pipeline(client, original, strict_env, progress)
    elif projects.URI_TAG in original.tags:
        new, differences = _rerun_project(client, original, repo, strict_env, timeout, progress)
    else:
        new, differences = _rerun_script(client, original, repo, strict_env, timeout, progress)
    progress("comparing metrics")
    comparisons = compare_metrics(_metrics(client, original), _metrics(client, new), rtol, atol)
    return Reproduction(
        original_run_id=original.id,
        new_run_id=new.id,
        environment_differences=differences,
        comparisons=comparisons,
        passed=all(c.ok for c in comparisons) and all(o.ok for o in outputs),
        param_differences=_param_differences(original.params, new.params),
        input_differences=_input_differences(client, original, new),
        outputs=outputs,
    )


def _original(client: Client, run_id: str) -> Run:
    try:
        run = client.get_run(run_id)
    except NotFound:
        run = _tracking_run_of_pipeline_run(client, run_id)
    if any(tag in run.tags for tag in _STEP_TAGS):
        parent = f" {run.parent_run_id}" if run.parent_run_id else ""
        raise InvalidInput(
            f"run {run.id} is one step of a pipeline run: reproduce the pipeline's run{parent}"
        )
    if run.status is RunStatus.RUNNING:
        raise Conflict(f"run {run.id} is still running: reproduce it once it has ended")
    return run


def _tracking_run_of_pipeline_run(client: Client, run_id: str) -> Run:
    pipelines = _pipelines(client)
    try:
        found = pipelines.get_run(run_id) if pipelines is not None else None
    except NotFound:
        found = None
    if found is None or found.tracking_run_id is None:
        raise NotFound(f"no run {run_id!r}", {"run_id": run_id})
    return client.get_run(found.tracking_run_id)


# -- scripts -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ScriptSource:
    """Where a script run's code is: ``entry`` relative to ``root`` at ``commit``."""

    root: Path
    commit: str
    entry: PurePosixPath
    diff: str | None


def _script_source(client: Client, run: Run, repo: Path | None = None) -> _ScriptSource:
    """The recorded code of a script run, checked to be there.

    Raises:
        InvalidInput: the run records no script or commit, ran in a notebook, or on a dirty
            tree whose diff it did not record in full.
        NotFound: the repository, the commit or the script in it is not there.
    """
    entry = run.tags.get(_ENTRY_TAG)
    if not entry:
        raise InvalidInput(
            f"run {run.id} records no entry point: only runs started by gnomon.start_run "
            "with the environment captured (GNOMON_CAPTURE_ENVIRONMENT) can be reproduced"
        )
    if entry in _NOT_SCRIPTS:
        raise InvalidInput(
            f"run {run.id} was started from {entry[1:-1]} code, which was not saved: "
            "only a script's runs can be reproduced"
        )
    commit = run.tags.get("gnomon.git.commit")
    recorded_root = run.tags.get(_ROOT_TAG)
    if not commit or not recorded_root:
        raise InvalidInput(
            f"run {run.id} records no git commit (its script {entry!r} was not in a git "
            "repository with a commit), so its code cannot be found again"
        )
    try:
        relative = Path(entry).relative_to(recorded_root)
    except ValueError:
        raise InvalidInput(
            f"run {run.id}'s script {entry!r} is outside its repository {recorded_root!r}"
        ) from None
    root = (repo or Path(recorded_root)).expanduser()
    if not os.path.exists(root / ".git"):  # False, not OSError, for a name too long
        hint = "" if repo else "; pass --repo where the repository is now"
        raise NotFound(f"no git repository at {str(root)!r}{hint}", {"repo": str(root)})
    if git(root, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise NotFound(f"commit {commit} is not in the repository at {str(root)!r}")
    posix = PurePosixPath(relative.as_posix())
    if git(root, "cat-file", "-e", f"{commit}:{posix}").returncode != 0:
        raise NotFound(f"script {str(posix)!r} is not in commit {commit} (it was not committed)")
    return _ScriptSource(root, commit, posix, _recorded_diff(client, run))


def _recorded_diff(client: Client, run: Run) -> str | None:
    if run.tags.get("gnomon.git.dirty") != "true":
        return None
    try:
        diff = client.tracking.load_bytes(client.scope, run.id, DIFF_ARTIFACT).decode()
    except NotFound:
        raise InvalidInput(
            f"run {run.id} ran on uncommitted changes and recorded no {DIFF_ARTIFACT}: "
            "its code cannot be rebuilt"
        ) from None
    if _TRUNCATED in diff:
        raise InvalidInput(f"run {run.id}'s {DIFF_ARTIFACT} was too large and is truncated")
    return diff


def _rerun_script(
    client: Client,
    original: Run,
    repo: Path | None,
    strict_env: bool,
    timeout: float | None,
    progress: Progress,
) -> tuple[Run, list[str]]:
    source = _script_source(client, original, repo)
    differences = _checked_environment(client, original, strict_env)
    progress(f"checking out {source.commit[:12]}")
    with _checked_out(source.root, source.commit, source.diff) as tree:
        progress(f"running {source.entry}")
        script = tree / source.entry
        _check_inside(original, source, script, tree)
        _run(client, original, script, tree, timeout)
        new = _new_run(client, original, str(script))
    tags = {_ROOT_TAG: str(source.root), _ENTRY_TAG: str(source.root / source.entry)}
    return _mark(client, new, original, tags), differences


def _checked_environment(client: Client, original: Run, strict_env: bool) -> list[str]:
    """How this environment differs from the one ``original`` recorded (refused with
    ``strict_env``), once every dataset version it used is found to be still there."""
    differences = environment_differences(
        original.tags.get("gnomon.python.version"), _recorded_requirements(client, original)
    )
    _check_environment(original, differences, strict_env)
    _check_inputs(client, [original])
    return differences


@contextmanager
def _checked_out(root: Path, commit: str, diff: str | None) -> Iterator[Path]:
    """``commit`` of ``root`` (with ``diff`` applied) in a temporary worktree, removed after;
    the user's own working tree and index are never touched."""
    holder = Path(tempfile.mkdtemp(prefix="gnomon-reproduce-")).resolve()
    tree = holder / "tree"
    try:
        added = git(root, "worktree", "add", "--detach", "-q", str(tree), commit)
        if added.returncode != 0:
            raise InvalidInput(f"could not check out commit {commit}: {said(added)}")
        if diff is not None and git(tree, "apply", "-", stdin=diff).returncode != 0:
            raise InvalidInput(f"the recorded diff does not apply to commit {commit}")
        yield tree
    finally:
        git(root, "worktree", "remove", "--force", "--force", str(tree))
        shutil.rmtree(holder, ignore_errors=True)
        git(root, "worktree", "prune")


def _check_inside(run: Run, source: _ScriptSource, script: Path, tree: Path) -> None:
    """Refuse a script that leads out of the checked-out tree: a symbolic link (committed, or
    made by the recorded diff) would run whatever its target holds now, not the recorded code."""
    if not script.resolve().is_relative_to(tree.resolve()):
        raise InvalidInput(
            f"run {run.id}'s script {str(source.entry)!r} is a symbolic link out of commit "
            f"{source.commit[:12]}: only the commit's own files are run"
        )


def _run(client: Client, original: Run, script: Path, cwd: Path, timeout: float | None) -> None:
    experiment = client.tracking.get_experiment(client.scope, original.experiment_id)
    env = child_environment(client, experiment.name)
    run_child(f"the re-run of {script.name}", [sys.executable, str(script)], cwd, env, timeout)


def _new_run(client: Client, original: Run, script: str) -> Run:
    """The run the re-run made that stands for ``original``: its runs are those whose
    script is the worktree's (a path no other process uses)."""
    return _the_one(original, runs_tagged(client, original.experiment_id, _ENTRY_TAG, script))


def _the_one(original: Run, made: list[Run]) -> Run:
    """Of the runs a re-run made, the one that stands for ``original``."""
    if not made:
        raise InvalidInput(
            f"the re-run logged no run in run {original.id}'s experiment: does the script "
            "still start one there?"
        )
    for candidates in (
        made,
        [r for r in made if r.name == original.name],
        [r for r in made if (r.parent_run_id is None) == (original.parent_run_id is None)],
    ):
        if len(candidates) == 1:
            return candidates[0]
    ids = ", ".join(r.id for r in made[:5])
    raise InvalidInput(
        f"the re-run made {len(made)} runs ({ids}) and none is plainly run {original.id} "
        "(by name or nesting): compare them with gnomon runs compare"
    )


def _mark(client: Client, run: Run, original: Run, tags: Mapping[str, str]) -> Run:
    """Tag ``run`` as reproducing ``original``, and read it back; an ended run takes tags
    only while running, so it is resumed for the write and ended again with its own status
    and end time."""
    scope = client.scope
    client.tracking.resume_run(scope, run.id)
    try:
        client.tracking.log_batch(scope, run.id, tags={**tags, REPRODUCES_TAG: original.id})
    finally:
        client.tracking.end_run(scope, run.id, run.status, end_time=run.end_time)
    return client.get_run(run.id)


def _rerun_project(
    client: Client,
    original: Run,
    repo: Path | None,
    strict_env: bool,
    timeout: float | None,
    progress: Progress,
) -> tuple[Run, list[str]]:
    source = projects.recorded_source(original.tags, repo)
    params = projects.recorded_params(original.tags)
    differences = _checked_environment(client, original, strict_env)
    experiment = client.tracking.get_experiment(client.scope, original.experiment_id)
    ran = projects.run_project(
        client,
        source,
        original.tags.get(projects.ENTRY_POINT_TAG, "main"),
        params,
        experiment=experiment.name,
        recorded=True,
        timeout=timeout,
        on_progress=progress,
    )
    new = _the_one(original, [client.get_run(run_id) for run_id in ran.run_ids])
    return _mark(client, new, original, {}), differences


# -- pipelines ---------------------------------------------------------------------------------


def _rerun_pipeline(
    client: Client, original: Run, strict_env: bool, progress: Progress
) -> tuple[Run, list[OutputComparison], list[str]]:
    from gnomon.pipelines.loading import load_pipeline
    from gnomon.pipelines.runner import run_pipeline

    pipelines = _pipelines(client)
    if pipelines is None:
        raise InvalidInput("this GNOMON_URI offers no pipelines")
    recorded = _pipeline_run(pipelines, original)
    if not recorded.function:
        raise InvalidInput(f"pipeline run {recorded.id} records no pipeline function to run")
    spec = load_pipeline(recorded.function).build()
    _check_same_pipeline(recorded, spec)
    differences = [f"run {original.id} records no Python version or packages (a pipeline run)"]
    _check_environment(original, differences, strict_env)
    _check_inputs(client, [original, *_component_runs(client, original)])
    progress(f"running pipeline {recorded.pipeline} ({len(spec.nodes)} steps, no cache)")
    result = run_pipeline(spec, pipelines, recorded.params, cache=False)
    assert result.run.tracking_run_id is not None  # the service makes one for every run
    new = _mark(client, client.get_run(result.run.tracking_run_id), original, {})
    outputs = _compare_outputs(pipelines.steps(recorded.id), pipelines.steps(result.run.id))
    return new, outputs, differences


def _pipeline_run(pipelines: PipelinesApi, run: Run) -> PipelineRun:
    name = run.tags[_PIPELINE_TAG]
    for found in pipelines.list_runs(name, limit=1000):
        if found.tracking_run_id == run.id:
            return pipelines.get_run(found.id)  # with its definition, which a listing leaves out
    raise NotFound(f"run {run.id} is tagged pipeline {name!r}, but no run of it is recorded")


def _check_same_pipeline(recorded: PipelineRun, spec: Any) -> None:
    """Refuse when the code here is not the recorded definition (code hashes, wiring)."""
    from gnomon.pipelines.spec_json import spec_to_dict

    current = json.loads(json.dumps(spec_to_dict(spec), default=str))  # as it was stored
    if current == recorded.spec:
        return
    hashes = {s["id"]: s["step"]["code_hash"] for s in current["steps"]}
    before = {s["id"]: s["step"]["code_hash"] for s in recorded.spec.get("steps", [])}
    changed = sorted(n for n in hashes.keys() | before.keys() if hashes.get(n) != before.get(n))
    what = f"steps {', '.join(changed[:10])} changed" if changed else "its wiring or options differ"
    raise InvalidInput(
        f"pipeline {recorded.pipeline!r} here is not the definition run {recorded.id} "
        f"recorded ({what}); pipeline runs record no commit, so the recorded code must be "
        "the code importable here"
    )


def _compare_outputs(before: list[StepRun], after: list[StepRun]) -> list[OutputComparison]:
    """Each output of each step that ran, by digest. An output that names a registry object
    (a model version) is left out: a re-run registers a new one by design."""
    now = {step.node: step.outputs() for step in after}
    compared = []
    for step in sorted(before, key=lambda s: s.node):
        if step.status not in ("succeeded", "cached"):
            continue
        for name, artifact in sorted(step.outputs().items()):
            if artifact.link is not None:
                continue
            again = now.get(step.node, {}).get(name)
            digest = again.digest if again is not None else None
            compared.append(
                OutputComparison(
                    step.node, name, artifact.digest, digest, digest == artifact.digest
                )
            )
    return compared


def _component_runs(client: Client, run: Run) -> list[Run]:
    found = client.search_runs(run.experiment_id, f"parent_run_id = '{run.id}'", max_results=1000)
    return [child for child in found.items if _COMPONENT_TAG in child.tags]


def _pipelines(client: Client) -> PipelinesApi | None:
    try:
        return client.pipelines  # type: ignore[return-value]
    except AttributeError:
        return None


# -- environment, data, comparison ---------------------------------------------------------------


def environment_differences(python: str | None, requirements: str | None) -> list[str]:
    """How this interpreter and its installed packages differ from the recorded ones."""
    differences = []
    here = platform.python_version()
    if python is None:
        differences.append("no Python version recorded")
    elif python != here:
        differences.append(f"Python {python} recorded, {here} here")
    if requirements is None:
        return [*differences, f"no {REQUIREMENTS_ARTIFACT} recorded"]
    recorded, current = _packages(requirements), _packages(installed_packages())
    for name in sorted(recorded.keys() & current.keys()):
        if recorded[name][1] != current[name][1]:
            differences.append(
                f"{current[name][0]} {recorded[name][1]} recorded, {current[name][1]} here"
            )
    for name in sorted(recorded.keys() - current.keys()):
        differences.append(f"{recorded[name][0]} {recorded[name][1]} recorded, not installed here")
    for name in sorted(current.keys() - recorded.keys()):
        differences.append(f"{current[name][0]} {current[name][1]} installed here, not recorded")
    return differences


def _packages(requirements: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in requirements.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name:
            found[name.lower().replace("_", "-")] = (name, version)
    return found


def _recorded_requirements(client: Client, run: Run) -> str | None:
    try:
        return client.tracking.load_bytes(client.scope, run.id, REQUIREMENTS_ARTIFACT).decode()
    except NotFound:
        return None


def _check_environment(run: Run, differences: list[str], strict: bool) -> None:
    if strict and differences:
        shown = "; ".join(differences[:3]) + ("; …" if len(differences) > 3 else "")
        raise InvalidInput(
            f"this environment differs from run {run.id}'s in {len(differences)} ways "
            f"({shown}); without --strict-env it is reproduced anyway, with warnings"
        )


def _check_inputs(client: Client, runs: list[Run]) -> None:
    """Raise ``NotFound`` naming every dataset version the runs used that is not there now."""
    datasets = _datasets(client)
    if datasets is None:
        return
    missing = []
    for run in runs:
        for used in datasets.inputs(run.id):
            try:
                datasets.version(used.ref)
            except (NotFound, PermissionDenied):
                missing.append(used.ref)
    if missing:
        names = ", ".join(sorted(set(missing)))
        raise NotFound(f"dataset versions run {runs[0].id} used are gone: {names}")


def _input_differences(client: Client, original: Run, new: Run) -> list[str]:
    datasets = _datasets(client)
    if datasets is None:
        return []
    before = {f"{i.ref} ({i.context})" for i in datasets.inputs(original.id)}
    after = {f"{i.ref} ({i.context})" for i in datasets.inputs(new.id)}
    return [
        f"{used} was used by the original, not by the re-run" for used in sorted(before - after)
    ] + [f"{used} was used by the re-run, not by the original" for used in sorted(after - before)]


def _datasets(client: Client) -> Any:
    try:
        return client.datasets
    except AttributeError:  # a server that offers no datasets
        return None


def _metrics(client: Client, run: Run) -> dict[str, float]:
    """The run's latest metrics, less sampled system use (``system/``: not a result); for a
    pipeline run also its components' runs' metrics, as ``node/metric``."""
    metrics = {k: v for k, v in run.metrics.items() if not k.startswith("system/")}
    if _PIPELINE_TAG in run.tags:
        for child in _component_runs(client, run):
            for key, value in child.metrics.items():
                if not key.startswith("system/"):
                    metrics[f"{child.name}/{key}"] = value
    return metrics


def compare_metrics(
    original: Mapping[str, float], reproduced: Mapping[str, float], rtol: float, atol: float
) -> list[MetricComparison]:
    """Every metric of ``original`` against ``reproduced``: within ``atol + rtol * |old|``,
    NaN against NaN, or missing (never ok)."""
    compared = []
    for key in sorted(original):
        old, new = original[key], reproduced.get(key)
        if new is None:
            compared.append(MetricComparison(key, old, None, None, False))
            continue
        same = old == new or (math.isnan(old) and math.isnan(new))
        delta = 0.0 if same else new - old
        ok = same or abs(delta) <= atol + rtol * abs(old)
        compared.append(MetricComparison(key, old, new, delta, ok))
    return compared


def _param_differences(original: Mapping[str, str], reproduced: Mapping[str, str]) -> list[str]:
    """Params the re-run logged differently: a script started with arguments (which are not
    recorded) shows here."""
    differences = []
    for key in sorted(original.keys() | reproduced.keys()):
        old, new = original.get(key), reproduced.get(key)
        if old != new:
            shown_old = "not logged" if old is None else repr(old)
            shown_new = "not logged" if new is None else repr(new)
            differences.append(f"param {key}: {shown_old} originally, {shown_new} in the re-run")
    return differences


__all__ = [
    "REPRODUCES_TAG",
    "MetricComparison",
    "OutputComparison",
    "Reproduction",
    "compare_metrics",
    "environment_differences",
    "reproduce",
]
