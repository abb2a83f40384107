"""Registering a run's logged model: the registry keeps its own copy of the model folder.

A registered version must outlive the run it came from (runs get deleted, their artifacts
collected), so registration copies the folder into the registry's storage and the version
points there. Loading by ``models:/…`` reads only that copy.

The digests that loading checks are facts of the database, computed here, by the side that
stores the files: when a run logs a model (``record_logged_model``) and when a version is
registered. A folder's own ``gnomon-model.yaml`` is never what proves it unchanged.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gnomon._types import Scope, new_id
from gnomon.artifacts.store import ArtifactStore
from gnomon.errors import Conflict, GnomonError, InvalidInput, NotFound
from gnomon.registry.entities import LoggedModel, ModelVersion, NewVersion
from gnomon.registry.service import RegistryService, logged_path
from gnomon.registry.uris import parse_run_uri
from gnomon.tracking.entities import RunStatus
from gnomon.tracking.service import TrackingService

if TYPE_CHECKING:
    from gnomon.modelfolder import Contract, ModelSpec

MODEL_FILE = "gnomon-model.yaml"
CONTRACT_EDITED_BY = "gnomon.contract.edited_by"  # the tag naming who last edited a contract
IMPORT_SOURCE = "import"  # the source of an imported version unless the caller labels it
# Sources the registry reads provenance from (service.create_version fills run_id from a
# runs:/ source); an import's label may not claim one.
_PROVENANCE = re.compile(r"\s*(runs|models)\s*:", re.IGNORECASE)


class Registrar:
    """Copies models between run artifacts and the registry's storage, and records their
    digests.

    ``load_check`` loads a folder before registering it, to prove it loads. Loading
    unpickles what the folder holds, which runs code, so the API server turns it off
    (``create_app``): there only the YAML, the file list and the hashes are checked, and
    loading happens in the client or the model server.
    """

    def __init__(
        self,
        tracking: TrackingService,
        registry: RegistryService,
        storage_root: str,
        open_store: Callable[[str], ArtifactStore],
        *,
        load_check: bool = True,
    ) -> None:
        self.tracking = tracking
        self.registry = registry
        self.storage_root = storage_root.rstrip("/")
        self._open_store = open_store
        self.load_check = load_check

    def without_load_check(self) -> Registrar:
        """The same registrar, never loading a model (for the API server)."""
        return Registrar(
            self.tracking, self.registry, self.storage_root, self._open_store, load_check=False
        )

    # -- models logged by runs ---------------------------------------------------------------

    def record_logged_model(self, scope: Scope, run_id: str, path: str) -> LoggedModel:
        """Hash the model folder a RUNNING run stored at ``path`` and record the digests;
        the run's artifacts under ``path`` are sealed from then on.

        Raises:
            NotFound: the run does not exist.
            Conflict: the run is not RUNNING, or already logged a model at ``path``.
            InvalidInput: no valid gnomon model folder at ``path``.
        """
        key = logged_path(path)  # refused before the storage is touched
        run = self.tracking.get_run(scope, run_id)
        if run.status is not RunStatus.RUNNING:
            raise Conflict(f"run {run_id!r} is {run.status.value}; cannot log a model")
        with tempfile.TemporaryDirectory(prefix="gnomon-record-") as tmp:
            folder = self._download_run_model(scope, run_id, key, Path(tmp))
            files, spec_sha256, _ = checked_folder(folder, f"run {run_id}'s model at {key!r}")
        return self.registry.record_logged_model(scope, run_id, key, files, spec_sha256)

    def get_logged_model(self, scope: Scope, run_id: str, path: str) -> LoggedModel:
        """The digests recorded when the run logged its model at ``path``. Raises
        ``NotFound``."""
        self.tracking.get_run(scope, run_id)  # NotFound names the run
        return self.registry.get_logged_model(scope, run_id, path)

    # -- registering ---------------------------------------------------------------------------

    def register(
        self,
        scope: Scope,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` (``runs:/<run id>/<path>``) as the next version of ``name``.

        The run's files are checked against the digests recorded when the model was
        logged, so files rewritten in the run's storage since are refused.

        Raises:
            NotFound: the run does not exist.
            InvalidInput: the run has no recorded gnomon model at that path, a file differs
                from its record, or a bad name or alias.
        """
        from gnomon.modelfolder.hashing import verify_recorded

        uri = parse_run_uri(source)
        self.tracking.get_run(scope, uri.run_id)  # NotFound names the run
        try:
            record = self.registry.get_logged_model(scope, uri.run_id, uri.path)
        except NotFound:
            raise _no_model(uri.run_id, uri.path) from None
        with tempfile.TemporaryDirectory(prefix="gnomon-register-") as tmp:
            folder = self._download_run_model(scope, uri.run_id, uri.path, Path(tmp))
            shown_as = f"run {uri.run_id}'s model at {uri.path!r}"
            with described(folder, shown_as):
                verify_recorded(folder, record.files, record.spec_sha256)
            return self.register_folder(
                scope,
                folder,
                name,
                source=str(uri),
                run_id=uri.run_id,
                description=description,
                tags=tags,
                alias=alias,
                shown_as=shown_as,
            )

    def import_folder(
        self,
        scope: Scope,
        folder: Path,
        name: str,
        *,
        source: str = IMPORT_SOURCE,
        description: str = "",
        alias: str | None = None,
        shown_as: str = "the imported model",
    ) -> ModelVersion:
        """Register a model folder that no run logged (an upload, a converted MLflow model).

        ``source`` is a free label (``import`` by default), stored as given; it may not claim
        a ``runs:/`` or ``models:/`` origin, so an imported version never names a run (which
        could be another workspace's) and its ``run_id`` is always empty.

        Raises:
            InvalidInput: ``source`` claims a run or model origin, or as ``register_folder``.
        """
        if _PROVENANCE.match(source):
            raise InvalidInput(
                f"an import's source is a label, not a model URI: {source[:200]!r} would "
                "claim a run or a registered model it was not copied from; register a run's "
                "model with its runs:/ URI instead",
                {"field": "source"},
            )
        return self.register_folder(
            scope,
            folder,
            name,
            source=source or IMPORT_SOURCE,
            description=description,
            alias=alias,
            shown_as=shown_as,
        )

    def register_folder(
        self,
        scope: Scope,
        folder: Path,
        name: str,
        *,
        source: str,
        run_id: str | None = None,
        description: str = "",
        tags: Mapping[str, Any] | None = None,
        alias: str | None = None,
        shown_as: str | None = None,
    ) -> ModelVersion:
        """Register a local gnomon model folder (an import, or a run's downloaded model).

        The YAML, its paths and every file's hash are checked; the model is loaded only
        when ``load_check`` is on (never in the API server). Errors name the folder
        ``shown_as`` (by default its path).
        """
        self.registry.check_model_name(name)
        if alias is not None:
            self.registry.check_alias(alias)
        files, spec_sha256, spec = checked_folder(folder, shown_as)
        if self.load_check:
            from gnomon.modelfolder import load_folder

            load_folder(folder)  # proves it loads, before anything is stored
        storage_uri = f"{self.storage_root}/{scope.workspace}/registry/{new_id()}"
        self._open_store(storage_uri).put_dir(folder, "")
        version = self.registry.create_version(
            scope,
            name,
            NewVersion(
                source=source,
                run_id=run_id,
                storage_uri=storage_uri,
                flavor=spec.flavor,
                description=description,
                tags=dict(tags or {}),
                created_by=scope.principal,
                files=files,
                spec_sha256=spec_sha256,
            ),
        )
        if alias is not None:
            self.registry.set_alias(scope, name, alias, version.version)
            version = replace(version, aliases=[alias])  # a new version has no other alias
        return version

    # -- contracts -------------------------------------------------------------------------------

    def read_contract(self, scope: Scope, name: str, version: int | str | None) -> Contract | None:
        """The input contract of a registered version (None: saved without an example)."""
        return self.read_model_spec(scope, name, version).contract

    def read_model_spec(self, scope: Scope, name: str, version: int | str | None) -> ModelSpec:
        """What a registered version's ``gnomon-model.yaml`` says (its digest checked); no
        model file is read."""
        from gnomon.modelfolder import read_spec

        found = self.registry.resolve(scope, name, version)
        with tempfile.TemporaryDirectory(prefix="gnomon-contract-") as tmp:
            _checked_spec_file(self._open_store(found.storage_uri), found, Path(tmp))
            return read_spec(Path(tmp), label=_version_yaml(found))

    def write_contract(
        self, scope: Scope, name: str, version: int | str | None, contract: Contract
    ) -> ModelVersion:
        """Replace the input contract of a registered version, recorded in the audit trail of
        the version as a tag. Only the YAML changes, so its recorded digest is updated with
        it; the model files and their recorded digests stay as they are."""
        from gnomon.modelfolder import read_spec, write_spec
        from gnomon.modelfolder.hashing import spec_digest

        found = self.registry.resolve(scope, name, version)
        store = self._open_store(found.storage_uri)
        with tempfile.TemporaryDirectory(prefix="gnomon-contract-") as tmp:
            folder = Path(tmp)
            _checked_spec_file(store, found, folder)  # a tampered YAML is never blessed
            spec = read_spec(folder, label=_version_yaml(found))
            with described(folder, _version_yaml(found)):
                write_spec(folder, replace(spec, contract=contract))
            digest = spec_digest(folder)
            # Recorded first, compared with what was read: of two edits racing, one wins and
            # the other is a Conflict that wrote nothing. Until the file lands, loads are
            # refused rather than served a YAML the record does not name.
            self.registry.record_spec_digest(
                scope, found.model_name, found.version, found.spec_sha256, digest
            )
            try:
                store.put_file(folder / MODEL_FILE, MODEL_FILE)
            except BaseException:
                previous = found.spec_sha256
                assert previous is not None  # _checked_spec_file refuses a version without
                self.registry.record_spec_digest(
                    scope, found.model_name, found.version, digest, previous
                )
                raise
        self.registry.set_version_tag(
            scope, found.model_name, found.version, CONTRACT_EDITED_BY, scope.principal
        )
        tags = {**found.tags, CONTRACT_EDITED_BY: scope.principal}
        return replace(found, tags=tags, spec_sha256=digest)

    # -- downloading -------------------------------------------------------------------------

    def download_version(self, scope: Scope, uri: str, dst: Path) -> Path:
        """Copy the model folder of ``models:/name/version`` (or ``@alias``) into ``dst``,
        checked against the digests recorded when it was registered.

        Raises:
            NotFound: the model, version or alias does not exist.
            InvalidInput: a file was changed, added or removed in storage since.
        """
        from gnomon.modelfolder.hashing import verify_recorded
        from gnomon.registry.entities import spec_file_of

        name, selector = self.registry.parse_model_uri(uri)
        version = self.registry.resolve(scope, name, selector)
        target = dst / f"{name}-v{version.version}"
        target.mkdir(parents=True, exist_ok=True)
        store = self._open_store(version.storage_uri)
        for entry in store.list():
            store.download(entry.path, target)
        verify_recorded(target, version.files, version.spec_sha256, spec_file_of(version))
        return target

    def _download_run_model(self, scope: Scope, run_id: str, path: str, dst: Path) -> Path:
        try:
            folder = self.tracking.download_artifacts(scope, run_id, path, dst)
        except NotFound:
            folder = None
        if folder is None or not (folder / MODEL_FILE).is_file():
            raise _no_model(run_id, path)
        return folder


def checked_folder(
    folder: Path, shown_as: str | None = None
) -> tuple[dict[str, str], str, ModelSpec]:
    """The digests of a model folder (each file's, and its YAML's) and its spec, after
    checking what can be checked without loading it: the YAML, that every path it names
    stays in the folder, no links, and that the files are the ones its YAML lists.

    Errors name the folder ``shown_as`` (``"the uploaded model"``) where given, never its
    path: a server's temporary folder means nothing to its caller.

    Raises:
        InvalidInput: any of these fails, naming the file or path.
        PayloadTooLarge: the YAML is larger than a model description can be.
    """
    from gnomon.modelfolder import read_spec
    from gnomon.modelfolder.flavors import get_flavor
    from gnomon.modelfolder.hashing import spec_digest, verify_folder

    spec = read_spec(folder, label=None if shown_as is None else f"{shown_as}'s {MODEL_FILE}")
    with described(folder, shown_as or str(folder)):
        get_flavor(spec.flavor)  # an unknown flavor is refused now, not when it is loaded
        # Every file present is listed and matches, so the list is what was hashed here.
        verify_folder(folder, spec.files)
        return dict(spec.files), spec_digest(folder), spec


@contextmanager
def described(folder: Path, shown_as: str) -> Iterator[None]:
    """Errors raised inside name ``shown_as`` wherever they named ``folder``."""
    try:
        yield
    except GnomonError as exc:
        where = str(folder)
        if where != shown_as and where in exc.message:
            exc.message = exc.message.replace(where, shown_as)
            exc.args = (exc.message, *exc.args[1:])
        raise


def _version_yaml(version: ModelVersion) -> str:
    return f"{MODEL_FILE} of version {version.version} of model {version.model_name!r}"


def _checked_spec_file(store: ArtifactStore, version: ModelVersion, dst: Path) -> None:
    """Download the version's YAML into ``dst`` and check it against the recorded digest."""
    from gnomon.modelfolder.hashing import spec_digest

    if version.spec_sha256 is None:
        raise InvalidInput(
            f"version {version.version} of registered model {version.model_name!r} has no "
            "recorded sha256 digests (registered before migration 0005); register it again"
        )
    store.download(MODEL_FILE, dst)
    if spec_digest(dst) != version.spec_sha256:
        raise InvalidInput(
            f"{MODEL_FILE} of version {version.version} of registered model "
            f"{version.model_name!r} does not match the sha256 recorded when it was stored",
            {"path": MODEL_FILE},
        )


def _no_model(run_id: str, path: str) -> InvalidInput:
    return InvalidInput(
        f"run {run_id!r} has no gnomon model at {path!r} "
        f"(log one with gnomon.log_model(model, {path!r}))"
    )
