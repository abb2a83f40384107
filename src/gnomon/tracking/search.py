"""The run filter language, parsed once into a :class:`RunQuery` that stores compile.

Grammar (keywords are case-insensitive)::

    filter     := comparison ("and" comparison)*
    comparison := field op value | field ["not"] "in" "(" value ("," value)* ")"
                | field "is" ["not"] "null"
    field      := ("metrics" | "params" | "tags") "." key | ["attributes" "."] attribute
    key        := name made of letters, digits and _ - . / :   or quoted with `backticks`
    op         := = | != | < | <= | > | >= | like | ilike
    value      := number | 'string' | "string"
    order_by   := field ["asc" | "desc"]

Metrics compare with numbers; params and tags are strings (quote them); attributes are
``status``, ``name``, ``run_id``, ``user``, ``experiment_id``, ``parent_run_id`` (strings) and
``start_time``, ``end_time`` (milliseconds since the epoch). ``tags.mlflow.parentRunId``, where
MLflow keeps a run's parent, is read as ``parent_run_id`` (``tags.mlflow.runName`` and
``run_name`` as ``name``, ``tags.mlflow.user`` and ``user_id`` as ``user``).

A missing value never matches a comparison: a run without the metric, param or tag, or
without a parent or an end time, is left out by ``=``, ``!=`` and the rest alike. ``IS NULL``
finds exactly those runs (``parent_run_id IS NULL``: the top-level runs), ``IS NOT NULL`` the
others. A metric logged as NaN has a value, so it is ``IS NOT NULL`` (and never compares).

A search is bounded so that every database runs it: the SQL store joins a table for each
metric, param or tag named, and SQLite refuses more than 64 tables in one join, so a filter
and its ``order_by`` name at most ``MAX_SEARCH_TERMS`` terms together; an ``IN`` list holds
at most ``MAX_IN_VALUES`` values and a search spans at most ``MAX_EXPERIMENTS`` experiments
(each is one bound parameter).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gnomon import checks
from gnomon.errors import InvalidInput
from gnomon.suggestions import did_you_mean
from gnomon.tracking.entities import RunStatus

MAX_RESULTS_LIMIT = checks.MAX_RESULTS_LIMIT
DEFAULT_MAX_RESULTS = 1_000
MAX_SEARCH_TERMS = 30  # comparisons plus order_by clauses: each can be one join
MAX_IN_VALUES = 500
MAX_EXPERIMENTS = 1_000
MAX_FILTER_LENGTH = 100_000

_BARE_KEY = rf"[{checks.KEY_CHARS}]+"  # checks.key's characters; a key with a space is quoted


class FieldKind(StrEnum):
    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"


STRING_ATTRIBUTES = frozenset(
    {"status", "name", "run_id", "user", "experiment_id", "parent_run_id"}
)
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time"})
ATTRIBUTES = STRING_ATTRIBUTES | NUMERIC_ATTRIBUTES

NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})  # any field: whether the run has a value

_PREFIXES = {
    "metric": FieldKind.METRIC,
    "metrics": FieldKind.METRIC,
    "param": FieldKind.PARAM,
    "params": FieldKind.PARAM,
    "tag": FieldKind.TAG,
    "tags": FieldKind.TAG,
    "attr": FieldKind.ATTRIBUTE,
    "attribute": FieldKind.ATTRIBUTE,
    "attributes": FieldKind.ATTRIBUTE,
}

# Where MLflow keeps a run's parent, name and user; gnomon holds them as attributes, so the
# tags read those (MLflow's own names for the attributes too).
_TAG_ALIASES = {
    "mlflow.parentRunId": "parent_run_id",
    "mlflow.runName": "name",
    "mlflow.user": "user",
}
_ATTRIBUTE_ALIASES = {"run_name": "name", "user_id": "user"}

_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<field>(?:{"|".join(_PREFIXES)})\.(?:`[^`]+`|"[^"]+"|{_BARE_KEY}))
  | (?P<unknown>[A-Za-z_][A-Za-z0-9_]*\.(?:`[^`]+`|"[^"]+"|{_BARE_KEY}))
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<op>!=|<>|<=|>=|==|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Field:
    kind: FieldKind
    key: str

    def __str__(self) -> str:
        return f"{self.kind.value}.{self.key}"

    @property
    def is_numeric(self) -> bool:
        return self.kind is FieldKind.METRIC or (
            self.kind is FieldKind.ATTRIBUTE and self.key in NUMERIC_ATTRIBUTES
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    field: Field
    op: str
    value: Any  # float, str, a tuple of them for IN / NOT IN, None for IS [NOT] NULL


@dataclass(frozen=True, slots=True)
class OrderBy:
    field: Field
    ascending: bool = True


@dataclass(frozen=True, slots=True)
class RunQuery:
    """A parsed search: what every store compiles (SQL) or sends (HTTP)."""

    experiment_ids: tuple[str, ...]
    filters: tuple[Comparison, ...] = ()
    order_by: tuple[OrderBy, ...] = ()
    max_results: int = DEFAULT_MAX_RESULTS
    page_token: str | None = None
    include_deleted: bool = False
    # The text it was parsed from: what the HTTP store sends for the server to parse again.
    filter_text: str = field(default="", compare=False)
    order_text: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    pos: int


def parse_filter(text: str | None, max_terms: int = MAX_SEARCH_TERMS) -> tuple[Comparison, ...]:
    """Parse a filter string; ``InvalidInput`` points at the offending token."""
    if not text or not text.strip():
        return ()
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(
            f"filter is {len(text)} characters; at most {MAX_FILTER_LENGTH}",
            {"field": "filter"},
        )
    return _Parser(text, max_terms).comparisons()


def parse_order_by(clauses: Sequence[str] | None) -> tuple[OrderBy, ...]:
    if clauses is not None and len(clauses) > MAX_SEARCH_TERMS:
        raise too_many_terms()
    return tuple(_Parser(_text("order_by", clause)).order_by() for clause in clauses or ())


def build_query(
    experiment_ids: Sequence[str],
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = DEFAULT_MAX_RESULTS,
    page_token: str | None = None,
    include_deleted: bool = False,
) -> RunQuery:
    checks.max_results(max_results)
    if len(experiment_ids) > MAX_EXPERIMENTS:
        raise InvalidInput(
            f"experiment_ids names {len(experiment_ids)} experiments; a search spans at most "
            f"{MAX_EXPERIMENTS}",
            {"field": "experiment_ids"},
        )
    ordering = parse_order_by(order_by)
    filters = parse_filter(
        None if filter is None else _text("filter", filter), MAX_SEARCH_TERMS - len(ordering)
    )
    return RunQuery(
        experiment_ids=tuple(checks.text("experiment_id", e) for e in experiment_ids),
        filters=filters,
        order_by=ordering,
        max_results=max_results,
        page_token=page_token,
        include_deleted=include_deleted,
        filter_text=filter or "",
        order_text=tuple(order_by or ()),
    )


def _text(what: str, value: object) -> str:
    return checks.text(what, value, empty=True)


def too_many_terms() -> InvalidInput:
    return InvalidInput(
        f"a search names more than {MAX_SEARCH_TERMS} terms in its filter and order_by "
        "together (each metric, param or tag named is a join in the database)",
        {"field": "filter", "limit": MAX_SEARCH_TERMS},
    )


class _Parser:
    def __init__(self, text: str, max_terms: int = MAX_SEARCH_TERMS) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.index = 0
        self.max_terms = max_terms

    def comparisons(self) -> tuple[Comparison, ...]:
        found: list[Comparison] = []
        while True:
            found.append(self._comparison())
            if len(found) > self.max_terms:
                raise too_many_terms()
            if self._peek() is None:
                return tuple(found)
            token = self._next("'and'")
            if token.text.lower() != "and":
                self._fail(token, "expected 'and' between comparisons (only 'and' is supported)")

    def order_by(self) -> OrderBy:
        target = self._field(self._next("a field to order by"))
        ascending = True
        token = self._peek()
        if token is not None:
            word = token.text.upper()
            if word not in ("ASC", "DESC"):
                self._fail(token, "expected ASC or DESC")
            ascending = word == "ASC"
            self.index += 1
        if (extra := self._peek()) is not None:
            self._fail(extra, "unexpected text after the order direction")
        return OrderBy(target, ascending)

    def _comparison(self) -> Comparison:
        target = self._field(self._next("a field such as metrics.acc or params.model"))
        op_token = self._next("an operator")
        op = self._operator(op_token)
        allowed = (NUMERIC_OPS if target.is_numeric else STRING_OPS) | NULL_OPS
        if op not in allowed:
            self._fail(op_token, f"operator {op} is not supported for {target}")
        if op in NULL_OPS:
            value: Any = None
        elif op in ("IN", "NOT IN"):
            value = self._value_list(target)
        else:
            value = self._value(target, self._next("a value"))
            if op in ("LIKE", "ILIKE") and not isinstance(value, str):
                self._fail(op_token, f"{op} needs a quoted pattern")
        return Comparison(target, op, value)

    def _operator(self, token: _Token) -> str:
        if token.kind == "op":
            return {"==": "=", "<>": "!="}.get(token.text, token.text)
        word = token.text.upper()
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT":
            follow = self._next("'in' after 'not'")
            if follow.text.upper() != "IN":
                self._fail(follow, "expected 'in' after 'not'")
            return "NOT IN"
        if word == "IS":
            follow = self._next("'null' or 'not null' after 'is'")
            negated = follow.text.upper() == "NOT"
            if negated:
                follow = self._next("'null' after 'is not'")
            if follow.text.upper() != "NULL":
                self._fail(follow, f"expected NULL after IS{' NOT' if negated else ''}")
            return "IS NOT NULL" if negated else "IS NULL"
        self._fail(
            token, "expected a comparison operator (= != < <= > >= like ilike in, is [not] null)"
        )
        raise AssertionError  # unreachable: _fail raises

    def _field(self, token: _Token) -> Field:
        if token.kind == "field":
            prefix, key = token.text.split(".", 1)
            kind = _PREFIXES[prefix.lower()]
            if key[0] in '`"':
                key = key[1:-1]
            if len(key) > checks.KEY_LENGTH:  # none stored is that long; later messages name it
                self._fail(token, f"a key has at most {checks.KEY_LENGTH} characters")
            if kind is FieldKind.ATTRIBUTE:
                return self._attribute(token, key)
            if kind is FieldKind.TAG and key in _TAG_ALIASES:
                return Field(FieldKind.ATTRIBUTE, _TAG_ALIASES[key])
            return Field(kind, key)
        if token.kind == "word":
            return self._attribute(token, token.text)
        if token.kind == "unknown":  # a typo in the prefix: metircs.acc
            prefix, key = token.text.split(".", 1)
            hint = did_you_mean(prefix.lower(), (k.value for k in FieldKind))
            self._fail(
                token,
                f"unknown field {checks.shown(prefix)}{hint} (fields are metrics., params., "
                "tags. or an attribute)",
            )
        self._fail(token, "expected a field such as metrics.acc, params.model or status")
        raise AssertionError

    def _attribute(self, token: _Token, name: str) -> Field:
        name = _ATTRIBUTE_ALIASES.get(name.lower(), name)
        if name.lower() not in ATTRIBUTES:
            known = ", ".join(sorted(ATTRIBUTES))
            hint = did_you_mean(name.lower(), sorted(ATTRIBUTES))
            self._fail(token, f"unknown attribute {checks.shown(name)}{hint} (known: {known})")
        return Field(FieldKind.ATTRIBUTE, name.lower())

    def _value(self, target: Field, token: _Token) -> float | str:
        if token.kind == "number":
            if not target.is_numeric:
                self._fail(
                    token,
                    f"{target} holds strings: quote the value, e.g. {checks.shown(token.text)}",
                )
            return float(token.text)
        if token.kind == "string":
            if target.is_numeric:
                self._fail(token, f"{target} holds numbers: compare it with a number")
            value = re.sub(r"\\(.)", r"\1", token.text[1:-1])
            if target == Field(FieldKind.ATTRIBUTE, "status"):
                if "%" not in value:
                    self._check_status(token, value)
                return value.upper()  # statuses are stored upper-case; the filter is not
            return value
        self._fail(token, "expected a number or a quoted string")
        raise AssertionError

    def _value_list(self, target: Field) -> tuple[float | str, ...]:
        opening = self._next("'('")
        if opening.text != "(":
            self._fail(opening, "expected '(' after IN")
        values = [self._value(target, self._next("a value"))]
        while (token := self._next("',' or ')'")).text != ")":
            if token.text != ",":
                self._fail(token, "expected ',' or ')' in the IN list")
            if len(values) == MAX_IN_VALUES:
                self._fail(token, f"an IN list holds at most {MAX_IN_VALUES} values")
            values.append(self._value(target, self._next("a value")))
        return tuple(values)

    def _check_status(self, token: _Token, value: str) -> None:
        if value.upper() not in RunStatus.__members__:
            known = ", ".join(RunStatus.__members__)
            self._fail(token, f"unknown status {checks.shown(value)} (known: {known})")

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _next(self, expected: str) -> _Token:
        token = self._peek()
        if token is None:
            raise InvalidInput(
                f"invalid filter {checks.shown(self.text)}: expected {expected} at the end",
                {"filter": checks.shown(self.text), "position": len(self.text)},
            )
        self.index += 1
        return token

    def _fail(self, token: _Token, reason: str) -> None:
        # Bounded: a filter may be 100,000 characters, and so may one of its tokens.
        raise InvalidInput(
            f"invalid filter {checks.shown(self.text)}: {reason}, at position {token.pos} "
            f"({checks.shown(token.text)})",
            {
                "filter": checks.shown(self.text),
                "position": token.pos,
                "token": checks.shown(token.text),
            },
        )

    @staticmethod
    def _tokenize(text: str) -> list[_Token]:
        tokens: list[_Token] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise InvalidInput(
                    f"invalid filter {checks.shown(text)}: unexpected character "
                    f"{checks.shown(text[pos])} at position {pos}",
                    {
                        "filter": checks.shown(text),
                        "position": pos,
                        "token": checks.shown(text[pos]),
                    },
                )
            kind = match.lastgroup or ""
            if kind != "ws":
                tokens.append(_Token(kind, match.group(), pos))
            pos = match.end()
        return tokens
