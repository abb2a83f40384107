"""The YAML text of ``gnomon-model.yaml``, read as hostile input within fixed limits.

Whoever uploads a model writes its description, and the API server reads it. Plain
``yaml.safe_load`` has no limits: a few hundred bytes of anchors and aliases ("billion
laughs") expand to gigabytes, an alias to its own mapping makes a structure that recursion
over it never leaves, and a few MB of ``[a,a,a,...]`` costs seconds and a GB of nodes. So the
text is held to a size, its events are scanned (streaming, with libyaml when present) for
anchors, aliases, the node count and the nesting depth before anything is built, and the
values built are plain JSON-like ones whose strings hold no NUL or lone surrogate (neither
can be stored, encoded or shown). The writer applies the same limits, so gnomon never writes
a description it would refuse to read.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from gnomon.checks import shown, text_problem
from gnomon.errors import InvalidInput, PayloadTooLarge

# 4,096 inferred input columns with 50 categories of 20 characters each weigh 5.5 MB and
# 250,000 nodes; real descriptions are a few KB. Both limits leave room above that.
MAX_SPEC_BYTES: Final = 8 * 2**20
MAX_SPEC_NODES: Final = 500_000
MAX_SPEC_DEPTH: Final = 32  # a description nests 4 deep (contract.inputs[i].categories)

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_PLAIN = (str, int, float, bool, type(None))


class _Dumper(_DUMPER):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a shared value is written out twice: the reader refuses aliases


def load_yaml(raw: bytes, label: str) -> Any:
    """The value ``raw`` holds; ``label`` names the file in errors (never a server path).

    Raises:
        PayloadTooLarge: more than ``MAX_SPEC_BYTES`` or ``MAX_SPEC_NODES``.
        InvalidInput: not UTF-8, not YAML, anchors or aliases, nested deeper than
            ``MAX_SPEC_DEPTH``, a value that is not JSON-like, or a string with a NUL or a
            lone surrogate.
    """
    if len(raw) > MAX_SPEC_BYTES:
        raise PayloadTooLarge(
            f"{label} is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES}",
            {"limit": MAX_SPEC_BYTES},
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{label} is not UTF-8 text (byte {exc.start})") from None
    _check_events(text, label)
    try:
        data = yaml.load(text, Loader=_LOADER)  # a safe loader (libyaml's)
    except Exception as exc:  # YAMLError, or a tag whose value does not convert (!!int abc)
        raise InvalidInput(f"{label} is not valid YAML: {shown(str(exc), 300)}") from None
    check_values(data, label)
    return data


def dump_yaml(data: Any, label: str) -> str:
    """``data`` as YAML text that :func:`load_yaml` reads back.

    Raises:
        PayloadTooLarge, InvalidInput: as :func:`load_yaml` would on the text.
    """
    check_values(data, label)
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    size = len(text.encode("utf-8"))
    if size > MAX_SPEC_BYTES:
        raise PayloadTooLarge(
            f"{label} would be {size} bytes; the limit is {MAX_SPEC_BYTES}",
            {"limit": MAX_SPEC_BYTES},
        )
    _check_events(text, label)
    return text


def check_values(data: Any, label: str, where: str = "") -> None:
    """Refuse what a description cannot hold: values that are not JSON-like, keys that are
    not strings, and strings with a NUL or a lone surrogate (``where`` is the key path)."""
    if isinstance(data, str):
        _check_text(data, label, where)
    elif isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                raise InvalidInput(
                    f"{label}: key {shown(key)} of {where or 'the top level'} must be a string"
                )
            _check_text(key, label, f"{where}.{key}" if where else key)
            check_values(value, label, f"{where}.{key}" if where else key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            check_values(value, label, f"{where}[{index}]")
    elif not isinstance(data, _PLAIN):
        raise InvalidInput(
            f"{label}: {where or 'the document'} holds a {type(data).__name__}; a model "
            "description holds strings, numbers, booleans, nulls, lists and mappings only"
        )


def _check_text(text: str, label: str, where: str) -> None:
    if text_problem(text) is not None:
        raise InvalidInput(
            f"{label}: {shown(where or text)} holds a NUL or a lone surrogate "
            "(text must be valid Unicode without NUL)"
        )


def _check_events(text: str, label: str) -> None:
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InvalidInput(
                    f"{label} uses a YAML anchor or alias (& or *); a model description "
                    "spells out every value",
                    {"anchor": shown(getattr(event, "anchor", None))},
                )
            if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                nodes += 1
                if nodes > MAX_SPEC_NODES:
                    raise PayloadTooLarge(
                        f"{label} holds more than {MAX_SPEC_NODES} values",
                        {"limit": MAX_SPEC_NODES},
                    )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_SPEC_DEPTH:
                    raise InvalidInput(f"{label} nests deeper than {MAX_SPEC_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{label} is not valid YAML: {shown(str(exc), 300)}") from None
