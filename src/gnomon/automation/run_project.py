"""``gnomon run SOURCE@REF -e ENTRY -p k=v``: a project's entry point, from a clean checkout.

``SOURCE`` is a git repository: a local folder (a repository, a folder in one, or a bare
repository) or a URL (``https``, ``http``, ``ssh``, ``git``, ``file``, or ``user@host:path``).
It is cloned into a temporary folder, the ref (a branch, tag or commit; default its HEAD) is
checked out there, and the entry point of its ``gnomon.yaml`` runs from that folder with this
Python, its command built as an argument list (no shell). Only committed code runs: the
user's working tree, index and branches are never touched, and no git hook runs.

Every run the entry point starts with ``gnomon.start_run`` is tagged with what was run:
``gnomon.project.uri``, ``.ref``, ``.commit``, ``.entry_point``, ``.name`` and ``.params``
(the resolved parameters, as JSON). ``gnomon reproduce`` reads them back to run it again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gnomon.automation.launch import (
    SCHEMES,
    check_timeout,
    child_environment,
    git,
    run_child,
    runs_tagged,
    said,
)
from gnomon.automation.project import EntryPoint, Project, load_project, unmet_requirements
from gnomon.errors import InvalidInput, NotFound, PermissionDenied
from gnomon.tracking.capture import strip_credentials
from gnomon.tracking.validation import TAG_VALUE_LENGTH

if TYPE_CHECKING:
    from gnomon.sdk import Client
    from gnomon.tracking.entities import Run

TAG_PREFIX = "gnomon.project."
URI_TAG = "gnomon.project.uri"
REF_TAG = "gnomon.project.ref"
COMMIT_TAG = "gnomon.project.commit"
ENTRY_POINT_TAG = "gnomon.project.entry_point"
NAME_TAG = "gnomon.project.name"
PARAMS_TAG = "gnomon.project.params"
LAUNCH_TAG = "gnomon.project.launch"  # one id per gnomon run: finds the runs it made
_SCP = re.compile(r"[\w.-]+@[\w.-]+:(?!//)")  # git@github.com:org/repo.git

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ProjectSource:
    """What to clone (an absolute folder, or a URL) and the ref to check out there."""

    uri: str
    ref: str | None = None
    local: bool = False

    @property
    def shown(self) -> str:
        """The URI with any ``user:token@`` left out: what is printed and recorded."""
        return strip_credentials(self.uri)


@dataclass(frozen=True, slots=True)
class ProjectRun:
    """What ``run_project`` ran, and the ids of the runs the entry point started."""

    project: str
    uri: str
    ref: str
    commit: str
    entry_point: str
    params: dict[str, str]
    command: list[str]
    run_ids: list[str]
    experiment: str
    warnings: list[str] = field(default_factory=list)


def parse_source(text: str) -> ProjectSource:
    """``PATH_OR_URL@REF`` (the ``@REF`` optional) as a source to clone.

    Raises:
        InvalidInput: an empty ref, a URL of another scheme.
        NotFound: a local folder that is not there.
    """
    text = text.strip()
    uri, ref = _split_ref(text)
    if ref is not None:
        _check_ref(ref)
    scheme = uri.partition("://")[0].lower() if "://" in uri else None
    if scheme is not None:
        if scheme not in SCHEMES:
            raise InvalidInput(
                f"{strip_credentials(uri)!r} is not a git URL gnomon clones "
                f"({', '.join(SCHEMES)}, or user@host:path)"
            )
        return ProjectSource(uri, ref)
    if _SCP.match(uri):
        return ProjectSource(uri, ref)
    folder = Path(uri).expanduser()
    if not os.path.isdir(folder):  # False, not OSError, for a name too long to be a path
        raise NotFound(f"no folder {uri!r}: a project is a git repository, a folder or a URL")
    return ProjectSource(str(folder.resolve()), ref, local=True)


def run_project(
    client: Client,
    source: str | ProjectSource,
    entry_point: str = "main",
    params: Mapping[str, str] | None = None,
    *,
    experiment: str | None = None,
    recorded: bool = False,
    timeout: float | None = None,
    output: IO[str] | None = None,
    on_progress: Progress | None = None,
) -> ProjectRun:
    """Check ``source`` out at its ref and run ``entry_point`` with ``params``, recorded.

    Example:
        >>> ran = run_project(gnomon.Client(), "https://example.com/churn.git@v1", "main",
        ...                   {"lr": "0.05"})

    Args:
        source: ``PATH_OR_URL@REF``, or a parsed ``ProjectSource``.
        params: values as text; a relative ``path`` is taken against the current folder.
        experiment: where the entry point's runs go (default: ``GNOMON_EXPERIMENT``).
        recorded: ``params`` are recorded values (a run's ``gnomon.project.params``):
            relative paths stay relative to the project folder, as they were run.
        timeout: seconds the entry point may run.
        output: where the entry point's output goes as it runs (default: kept, and its tail
            put in the error if it fails).
        on_progress: told what is being done, for a spinner.

    Raises:
        InvalidInput: a wrong project file (naming the field), an unknown entry point, a
            parameter it does not declare or of the wrong type, unmet requirements, a ref
            or URL git cannot use.
        NotFound: the folder, the ref, or a dataset version a parameter names.
        UserCodeError: the entry point exited with an error or ran past ``timeout``.
    """
    found = parse_source(source) if isinstance(source, str) else source
    check_timeout(timeout)
    progress = on_progress or (lambda _: None)
    experiment = experiment or client.settings.experiment
    cwd = None if recorded else Path.cwd()
    progress(f"checking out {found.shown}@{found.ref or 'HEAD'}")
    with checked_out(found) as (folder, commit):
        project = load_project(folder)
        entry = project.entry_point(entry_point)
        values = entry.resolve(params or {}, cwd)
        _check_datasets(client, entry, values)
        _check_environment(project, folder)
        launch = uuid.uuid4().hex
        tags = _tags(found, commit, project, entry, values, launch)
        argv = _argv(entry, values)
        progress(f"running entry point {entry.name} at {commit[:12]}")
        env = child_environment(client, experiment, tags)
        run_child(f"entry point {entry.name!r}", argv, folder, env, timeout, output)
    return ProjectRun(
        project=project.name,
        uri=found.shown,
        ref=found.ref or "HEAD",
        commit=commit,
        entry_point=entry.name,
        params=values,
        command=argv,
        run_ids=[run.id for run in runs_of_launch(client, experiment, launch)],
        experiment=experiment,
        warnings=_uncommitted(found),
    )


def runs_of_launch(client: Client, experiment: str, launch: str) -> list[Run]:
    """The runs one ``gnomon run`` started in ``experiment``, oldest first."""
    return runs_tagged(client, experiment, LAUNCH_TAG, launch)


def recorded_source(tags: Mapping[str, str], repo: Path | None = None) -> ProjectSource:
    """Where a ``gnomon run`` run's code is: its project at its recorded commit (``repo``:
    where that repository is now).

    Raises:
        InvalidInput: the tags are not a ``gnomon run`` run's.
        NotFound: the recorded folder is not there.
    """
    uri, commit = tags.get(URI_TAG), tags.get(COMMIT_TAG)
    if not uri or not commit:
        raise InvalidInput("the run records no project and commit (gnomon run tags them)")
    if repo is not None:
        return ProjectSource(str(repo.expanduser().resolve()), commit, local=True)
    try:
        return parse_source(f"{uri}@{commit}")
    except NotFound as exc:
        raise NotFound(f"{exc.message}; pass --repo where the repository is now") from None


def recorded_params(tags: Mapping[str, str]) -> dict[str, str]:
    """The resolved parameters a ``gnomon run`` run records; ``InvalidInput`` when damaged."""
    try:
        found = json.loads(tags.get(PARAMS_TAG) or "{}")
    except ValueError:
        found = None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise InvalidInput(f"the run's {PARAMS_TAG} tag is not a JSON object of texts")
    return found


# -- checkout -------------------------------------------------------------------------------------


@contextmanager
def checked_out(source: ProjectSource) -> Iterator[tuple[Path, str]]:
    """The project folder in a fresh clone at the source's ref, and the commit; removed after."""
    holder = Path(tempfile.mkdtemp(prefix="gnomon-run-")).resolve()
    tree = holder / "tree"
    try:
        if source.local:
            repository, prefix = _local_repository(Path(source.uri))
            commit = _resolve(repository, source.ref or "HEAD", source)
            _clone(str(repository), tree, source)
            if git(tree, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
                raise NotFound(f"commit {commit} of {source.shown!r} could not be cloned")
        else:
            prefix = ""
            _clone(source.uri, tree, source)
            commit = _resolve_cloned(tree, source)
        checkout = git(tree, "-c", "advice.detachedHead=false", "checkout", "-q", commit)
        if checkout.returncode != 0:
            raise InvalidInput(f"could not check out {commit}: {_said(checkout, source)}")
        folder = tree / prefix
        if not folder.is_dir():
            raise NotFound(f"folder {prefix.rstrip('/')!r} is not in commit {commit[:12]}")
        yield folder, commit
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _split_ref(text: str) -> tuple[str, str | None]:
    """``repo@ref`` apart; an ``@`` that is a URL's or an scp-like address's user is not a ref
    (``ssh://git@host/repo``, ``git@host:repo``), nor one in a folder's name that exists."""
    if os.path.exists(os.path.expanduser(text)):
        return text, None
    head, at, ref = text.rpartition("@")
    if not at:
        return text, None
    if "://" in head:
        if "/" not in head.partition("://")[2]:
            return text, None  # the @ ends the user part of the URL
    elif "/" not in head and ":" not in head and not os.path.exists(os.path.expanduser(head)):
        return text, None  # git@host:repo
    return head, ref


def _check_ref(ref: str) -> None:
    if not ref or ref.startswith("-") or any(c.isspace() or ord(c) < 32 for c in ref):
        raise InvalidInput(f"{ref!r} is not a git ref: a branch, a tag or a commit")


def _local_repository(folder: Path) -> tuple[Path, str]:
    """The repository ``folder`` is in, and ``folder``'s path inside it (``sub/``)."""
    bare = git(folder, "rev-parse", "--is-bare-repository")
    if bare.returncode != 0:
        raise NotFound(f"{str(folder)!r} is not in a git repository: gnomon run needs one")
    if bare.stdout.strip() == "true":
        return folder, ""
    found = git(folder, "rev-parse", "--show-toplevel", "--show-prefix")
    lines = found.stdout.splitlines()
    if found.returncode != 0 or not lines:
        raise NotFound(f"{str(folder)!r} is not in a git repository's work tree")
    return Path(lines[0]), lines[1] if len(lines) > 1 else ""


def _resolve(repository: Path, ref: str, source: ProjectSource) -> str:
    found = git(repository, "rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise NotFound(f"no branch, tag or commit {ref!r} in {source.shown!r}", {"ref": ref})
    return found.stdout.strip()


def _resolve_cloned(tree: Path, source: ProjectSource) -> str:
    """A ref of the cloned repository: its branch (``origin/<ref>``), its tag, or a commit."""
    ref = source.ref or "HEAD"
    for candidate in (f"refs/remotes/origin/{ref}", f"refs/tags/{ref}", ref):
        found = git(
            tree, "rev-parse", "--verify", "-q", "--end-of-options", f"{candidate}^{{commit}}"
        )
        if found.returncode == 0:
            return found.stdout.strip()
    raise NotFound(f"no branch, tag or commit {ref!r} in {source.shown!r}", {"ref": ref})


def _clone(uri: str, tree: Path, source: ProjectSource) -> None:
    cloned = git(tree.parent, "clone", "-q", "--no-checkout", "--", uri, str(tree))
    if cloned.returncode != 0:
        raise NotFound(f"could not clone {source.shown!r}: {_said(cloned, source)}")


def _said(done: subprocess.CompletedProcess[str], source: ProjectSource) -> str:
    return said(done).replace(source.uri, source.shown)  # never print a URL's token


def _uncommitted(source: ProjectSource) -> list[str]:
    if not source.local:
        return []
    status = git(Path(source.uri), "status", "--porcelain", "--untracked-files=no", ".")
    if status.returncode != 0 or not status.stdout.strip():
        return []
    return [f"{source.shown} has uncommitted changes: they were not run (commit them)"]


# -- the entry point ------------------------------------------------------------------------------


def _check_datasets(client: Client, entry: EntryPoint, values: Mapping[str, str]) -> None:
    datasets = getattr(client, "datasets", None)
    for name, parameter in sorted(entry.parameters.items()):
        if parameter.type != "dataset" or datasets is None:
            continue
        try:
            datasets.version(values[name])
        except (NotFound, PermissionDenied):
            raise NotFound(
                f"parameter {name!r}: no dataset version {values[name]!r}",
                {"parameter": name},
            ) from None


def _check_environment(project: Project, folder: Path) -> None:
    if project.requirements is None:
        return
    unmet = unmet_requirements((folder / project.requirements).read_text(errors="replace"))
    if unmet:
        shown = "; ".join(unmet[:5]) + ("; …" if len(unmet) > 5 else "")
        raise InvalidInput(
            f"this Python does not meet {project.requirements} of project {project.name!r}: "
            f"{shown} (gnomon runs the entry point with this Python: install them first)"
        )


def _tags(
    source: ProjectSource,
    commit: str,
    project: Project,
    entry: EntryPoint,
    values: Mapping[str, str],
    launch: str,
) -> dict[str, str]:
    tags = {
        URI_TAG: source.shown,
        REF_TAG: source.ref or "HEAD",
        COMMIT_TAG: commit,
        ENTRY_POINT_TAG: entry.name,
        NAME_TAG: project.name,
        PARAMS_TAG: json.dumps(dict(values), sort_keys=True, ensure_ascii=False),
        LAUNCH_TAG: launch,
    }
    for key, value in tags.items():
        if len(value) > TAG_VALUE_LENGTH:
            raise InvalidInput(
                f"{key} would be {len(value)} characters, over the {TAG_VALUE_LENGTH} a tag "
                "holds: pass long values in a file (a path parameter)"
            )
    return tags


def _argv(entry: EntryPoint, values: Mapping[str, str]) -> list[str]:
    """The command, with ``python`` meaning this Python (the recorded environment)."""
    argv = entry.argv(values)
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


__all__ = [
    "COMMIT_TAG",
    "ENTRY_POINT_TAG",
    "LAUNCH_TAG",
    "NAME_TAG",
    "PARAMS_TAG",
    "REF_TAG",
    "URI_TAG",
    "ProjectRun",
    "ProjectSource",
    "checked_out",
    "parse_source",
    "recorded_params",
    "recorded_source",
    "run_project",
    "runs_of_launch",
]
