"""Loading feature definitions from a repo: a Python file, or a folder of them, run as modules
(user code: on the CLI's side only, never in the API server). Every ``Entity``,
``FeatureView`` and ``FeatureService`` bound at a module's top level is collected."""

from __future__ import annotations

import dataclasses
import runpy
import sys
from pathlib import Path
from typing import Any

from gnomon.errors import GnomonError, InvalidInput, NotFound, UserCodeError
from gnomon.features.definitions import Entity, FeatureService, FeatureView, FileSource
from gnomon.features.entities import LABELS
from gnomon.features.specs import Definition, kind_of

MAX_FILES = 1000


def load_definitions(path: Path) -> list[Definition]:
    """The definitions of the Python file ``path``, or of every ``.py`` file directly in the
    folder ``path`` (by name; the folder is importable while they run, so they may import each
    other). A relative ``FileSource`` path is taken from the folder of the file defining it.

    Raises:
        NotFound: ``path`` does not exist.
        InvalidInput: it is not a ``.py`` file or a folder holding some; it defines nothing;
            a name is defined twice, differently; a definition is invalid (named with its
            file).
        UserCodeError: running a file raised.
    """
    files = _files(Path(path).expanduser())
    folder = str(files[0].parent.resolve())
    sys.path.insert(0, folder)
    try:
        found: dict[tuple[str, str], tuple[Definition, str]] = {}
        for file in files:
            for where, definition in _collect(file):
                _add(found, definition, where)
    finally:
        sys.path.remove(folder)
        _forget_modules(folder)
    if not found:
        raise InvalidInput(f"{path} defines no Entity, FeatureView or FeatureService")
    return [definition for definition, _ in found.values()]


def _forget_modules(folder: str) -> None:
    """Drop the modules the repo's files imported from their folder: another repo (or this
    one, edited) loaded later in the same process must not get these copies."""
    inside = Path(folder)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().parent == inside:
            del sys.modules[name]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if p.is_file())
        if not files:
            raise InvalidInput(f"{path} holds no .py file of feature definitions")
        if len(files) > MAX_FILES:
            raise InvalidInput(f"{path} holds {len(files):,} .py files; at most {MAX_FILES:,}")
        return files
    if not path.exists():
        raise NotFound(f"no file or folder {str(path)!r}")
    if path.suffix != ".py" or not path.is_file():
        raise InvalidInput(f"feature definitions come from a .py file or a folder, not {path}")
    return [path]


def _collect(file: Path) -> list[tuple[str, Definition]]:
    try:
        namespace = runpy.run_path(str(file), run_name=f"gnomon_feature_repo.{file.stem}")
    except UserCodeError:
        raise
    except GnomonError as exc:  # a definition refused its values: say in which file
        raise type(exc)(f"{file.name}: {exc.message}", exc.details) from None
    except Exception as exc:
        raise UserCodeError(
            f"running {file.name} raised {type(exc).__name__}: {exc}", exc
        ) from None
    return [
        (f"{file.name} ({variable})", _anchored(value, file.parent))
        for variable, value in namespace.items()
        if isinstance(value, Entity | FeatureView | FeatureService)
    ]


def _anchored(definition: Any, folder: Path) -> Definition:
    """``definition`` with a relative file source made absolute against ``folder``."""
    if not isinstance(definition, FeatureView) or not isinstance(definition.source, FileSource):
        return definition  # type: ignore[no-any-return]
    source = definition.source
    where = Path(source.path).expanduser()
    if where.is_absolute() or "://" in source.path:
        return definition
    anchored = FileSource(str((folder / where).resolve()), source.format)
    return dataclasses.replace(definition, source=anchored)


def _add(
    found: dict[tuple[str, str], tuple[Definition, str]], definition: Definition, where: str
) -> None:
    key = (kind_of(definition), definition.name)
    if key in found and found[key][0] != definition:
        raise InvalidInput(
            f"{LABELS[key[0]]} {definition.name!r} is defined twice, differently: in "
            f"{found[key][1]} and in {where}"
        )
    found.setdefault(key, (definition, where))
