"""A project's ``gnomon.yaml``: its name, its Python environment and its entry points.

::

    name: churn
    environment: current              # run with this Python (the default); or
    # requirements: requirements.txt  # a file in the project, checked against this Python
    entry_points:
      main:
        command: python train.py --lr {lr} --epochs {epochs} --out {out}
        parameters:
          lr: {type: float, default: 0.1}
          epochs: {type: int, default: 10}
          out: path                     # a type alone: required
      evaluate:
        command: python evaluate.py --table {table}
        parameters:
          table: {type: dataset, description: "the holdout, NAME@V"}

A command is split into words once, as a POSIX shell splits them (quotes group words), and
then each ``{name}`` in a word is replaced by that parameter's value: a value is always one
argument, or part of one, and never read by a shell. ``{{`` and ``}}`` are literal braces.
A parameter is ``int``, ``float``, ``str``, ``path`` or ``dataset`` (``NAME@V``, pinned).
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnomon.errors import InvalidInput

PROJECT_FILE = "gnomon.yaml"
TYPES = ("int", "float", "str", "path", "dataset")
MAX_PROJECT_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,127}")
_PARAMETER = re.compile(r"[A-Za-z_]\w{0,127}", re.ASCII)
_INT = re.compile(r"[+-]?\d{1,18}", re.ASCII)
_DATASET = re.compile(r"(?P<name>[^@\s]+)@(?P<version>\d{1,10})", re.ASCII)
# {{ and }} escape a brace; {name} is a placeholder; any other brace is a mistake.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_KEYS = {"name", "environment", "requirements", "entry_points"}
_ENTRY_KEYS = {"command", "parameters"}
_PARAMETER_KEYS = {"type", "default", "description"}


@dataclass(frozen=True, slots=True)
class Parameter:
    """A declared parameter; ``default`` is its checked text (``None``: required)."""

    name: str
    type: str = "str"
    default: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class EntryPoint:
    name: str
    command: tuple[str, ...]  # words, each with its {placeholders}
    parameters: dict[str, Parameter]

    def resolve(self, given: Mapping[str, str], cwd: Path | None) -> dict[str, str]:
        """Every parameter's value: ``given`` checked against its type, else its default.

        Args:
            given: values as text, by name.
            cwd: what a relative ``path`` value is taken against; ``None`` keeps it relative
                (to the project folder, where the command runs), as defaults are.

        Raises:
            InvalidInput: a name the entry point does not declare, a value not of its
                parameter's type, a required parameter left out.
        """
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            declared = ", ".join(sorted(self.parameters)) or "none"
            raise InvalidInput(
                f"entry point {self.name!r} declares no parameter {unknown[0]!r} "
                f"(it declares: {declared})",
                {"parameter": unknown[0]},
            )
        values = {}
        for name, parameter in sorted(self.parameters.items()):
            if name in given:
                values[name] = check_value(parameter, given[name], cwd)
            elif parameter.default is not None:
                values[name] = parameter.default
            else:
                raise InvalidInput(
                    f"entry point {self.name!r} needs parameter {name!r} ({parameter.type}): "
                    f"pass -p {name}=VALUE",
                    {"parameter": name},
                )
        return values

    def argv(self, values: Mapping[str, str]) -> list[str]:
        """The command's words with every placeholder replaced: a list for ``exec``, never
        a line for a shell."""
        return [_PLACEHOLDER.sub(lambda m: _fill(m, values), word) for word in self.command]


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    entry_points: dict[str, EntryPoint]
    requirements: str | None = None  # a file in the project; None: the current environment

    def entry_point(self, name: str) -> EntryPoint:
        """Raises ``InvalidInput`` naming the entry points there are."""
        try:
            return self.entry_points[name]
        except KeyError:
            there = ", ".join(sorted(self.entry_points))
            raise InvalidInput(
                f"project {self.name!r} has no entry point {name!r} (it has: {there})",
                {"entry_point": name},
            ) from None


def load_project(folder: Path) -> Project:
    """The ``gnomon.yaml`` in ``folder``.

    Raises:
        InvalidInput: no such file, not YAML, or a field wrong (the message names it).
    """
    import yaml

    path = folder / PROJECT_FILE
    try:
        if path.stat().st_size > MAX_PROJECT_BYTES:
            raise InvalidInput(f"{PROJECT_FILE} is over {MAX_PROJECT_BYTES // 1024} KiB")
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"no {PROJECT_FILE} in the project: it names the entry points") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {PROJECT_FILE}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{PROJECT_FILE} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise InvalidInput(f"{PROJECT_FILE} is not valid YAML{where}: {problem}") from None
    project = parse_project(raw)
    if project.requirements is not None:
        _check_requirements_file(folder, project.requirements)
    return project


def parse_project(raw: object) -> Project:
    """A project from its parsed YAML; ``InvalidInput`` naming the first wrong field."""
    fields = _mapping(PROJECT_FILE, raw, _KEYS)
    name = _text("name", fields.get("name"))
    if not _NAME.fullmatch(name):
        raise _wrong("name", "letters, digits, '_', '.' and '-', at most 128", name)
    environment = fields.get("environment")
    requirements = fields.get("requirements")
    if environment is not None and requirements is not None:
        raise _wrong("environment", "left out when requirements is given", environment)
    if environment is not None and environment != "current":
        raise _wrong("environment", "'current' (this Python)", environment)
    if requirements is not None:
        requirements = _text("requirements", requirements)
    entries = _mapping("entry_points", fields.get("entry_points"), None)
    if not entries:
        raise _wrong("entry_points", "a mapping of at least one entry point", None)
    points = {}
    for entry, spec in entries.items():
        where = f"entry_points.{entry}"
        if not isinstance(entry, str) or not _NAME.fullmatch(entry):
            raise _wrong(where, "named with letters, digits, '_', '.' and '-'", entry)
        points[entry] = _entry_point(where, entry, spec)
    return Project(name, points, requirements)


def check_value(parameter: Parameter, text: str, cwd: Path | None) -> str:
    """``text`` as the value of ``parameter``, normalised (``"1e1"`` as float is ``"10.0"``;
    a relative path joined to ``cwd`` when given).

    Raises:
        InvalidInput: not a value of the parameter's type.
    """
    kind, name = parameter.type, parameter.name
    if not isinstance(text, str) or "\x00" in text:
        raise InvalidInput(f"parameter {name!r} must be text without NUL, not {text!r}")
    value = text.strip()
    if kind == "int" and _INT.fullmatch(value):
        return str(int(value))
    if kind == "float":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            return repr(number)
    if kind == "str":
        return text
    if kind == "path" and value:
        path = Path(value).expanduser()
        return os.path.normpath(cwd / path) if cwd is not None else str(path)
    if kind == "dataset" and _DATASET.fullmatch(value) and int(value.rpartition("@")[2]) >= 1:
        return value
    raise InvalidInput(
        f"parameter {name!r} must be {_DESCRIBED[kind]}, not {text[:80]!r}",
        {"parameter": name, "type": kind},
    )


_DESCRIBED = {
    "int": "a whole number",
    "float": "a finite number",
    "str": "text",
    "path": "a path",
    "dataset": "a dataset version NAME@V (a version number: runs are recorded pinned)",
}


def unmet_requirements(text: str) -> list[str]:
    """Each line of a requirements file this Python's installed packages do not satisfy."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    unmet = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            wanted = Requirement(line)
        except InvalidRequirement:
            unmet.append(f"line {number}: {line!r} is not a requirement gnomon can check")
            continue
        if wanted.marker is not None and not wanted.marker.evaluate():
            continue
        try:
            have = version(wanted.name)
        except PackageNotFoundError:
            unmet.append(f"{wanted.name} is not installed")
            continue
        if not wanted.specifier.contains(have, prereleases=True):
            unmet.append(f"{wanted.name} {have} is installed, {wanted.specifier} is required")
    return unmet


# -- the file's fields ----------------------------------------------------------------------------


def _entry_point(where: str, name: str, raw: object) -> EntryPoint:
    fields = _mapping(where, raw, _ENTRY_KEYS)
    command = _text(f"{where}.command", fields.get("command"))
    try:
        words = tuple(shlex.split(command))
    except ValueError as exc:
        raise _wrong(f"{where}.command", f"words a shell could split ({exc})", command) from None
    if not words:
        raise _wrong(f"{where}.command", "a program and its arguments", command)
    declared = _mapping(f"{where}.parameters", fields.get("parameters") or {}, None)
    parameters = {}
    for parameter, spec in declared.items():
        at = f"{where}.parameters.{parameter}"
        if not isinstance(parameter, str) or not _PARAMETER.fullmatch(parameter):
            raise _wrong(at, "named like a Python identifier", parameter)
        parameters[parameter] = _parameter(at, parameter, spec)
    used = {found for word in words for found in _placeholders(f"{where}.command", word)}
    for undeclared in sorted(used - set(parameters)):
        raise InvalidInput(
            f"{PROJECT_FILE}: {where}.command uses {{{undeclared}}}, which is not one of "
            f"its parameters: declare it under {where}.parameters",
            {"field": f"{where}.command"},
        )
    for unused in sorted(set(parameters) - used):
        raise InvalidInput(
            f"{PROJECT_FILE}: {where}.parameters.{unused} is not used in the command: "
            f"put {{{unused}}} where its value goes",
            {"field": f"{where}.parameters.{unused}"},
        )
    return EntryPoint(name, words, parameters)


def _parameter(where: str, name: str, raw: object) -> Parameter:
    fields = {"type": raw} if isinstance(raw, str) else _mapping(where, raw, _PARAMETER_KEYS)
    kind = fields.get("type", "str")
    if kind not in TYPES:
        raise _wrong(f"{where}.type", f"one of {', '.join(TYPES)}", kind)
    description = fields.get("description") or ""
    if not isinstance(description, str):
        raise _wrong(f"{where}.description", "text", description)
    default = fields.get("default")
    if default is None:
        return Parameter(name, kind, None, description)
    if isinstance(default, bool) or not isinstance(default, str | int | float):
        raise _wrong(f"{where}.default", f"a {kind} value", default)
    text = repr(default) if isinstance(default, float) else str(default)
    try:
        checked = check_value(Parameter(name, kind), text, None)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{PROJECT_FILE}: {where}.default: {exc.message}", {"field": f"{where}.default"}
        ) from None
    return Parameter(name, kind, checked, description)


def _placeholders(where: str, word: str) -> list[str]:
    found = []
    for match in _PLACEHOLDER.finditer(word):
        if match[0] in ("{{", "}}"):
            continue
        if match[1] is None or not _PARAMETER.fullmatch(match[1]):
            raise _wrong(where, "{name} placeholders, with {{ and }} for braces", match[0])
        found.append(match[1])
    return found


def _fill(match: re.Match[str], values: Mapping[str, str]) -> str:
    if match[0] in ("{{", "}}"):
        return match[0][0]
    return values[match[1]]


def _check_requirements_file(folder: Path, name: str) -> None:
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise _wrong("requirements", "a file inside the project", name)
    if not path.is_file():
        raise _wrong("requirements", "a file in the project at this commit", name)


def _mapping(where: str, raw: object, keys: set[str] | None) -> dict[Any, Any]:
    if not isinstance(raw, dict):
        if where == PROJECT_FILE:
            raise InvalidInput(f"{PROJECT_FILE} must hold a mapping: name, entry_points...")
        raise _wrong(where, "a mapping", raw)
    if keys is not None:
        for key in raw:
            if key not in keys:
                field = key if where == PROJECT_FILE else f"{where}.{key}"
                raise InvalidInput(
                    f"{PROJECT_FILE}: {field} is not a field (expected: {', '.join(sorted(keys))})",
                    {"field": str(field)},
                )
    return raw


def _text(where: str, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _wrong(where, "text", raw)
    return raw


def _wrong(field: str, expected: str, got: object) -> InvalidInput:
    shown = "nothing" if got is None else repr(got)[:80]
    return InvalidInput(
        f"{PROJECT_FILE}: {field} must be {expected}, not {shown}", {"field": field}
    )


__all__ = [
    "PROJECT_FILE",
    "TYPES",
    "EntryPoint",
    "Parameter",
    "Project",
    "check_value",
    "load_project",
    "parse_project",
    "unmet_requirements",
]
