"""A bounded, reproducible schemathesis run over an OpenAPI schema, its findings as data.

Each operation gets ``budget`` generated requests per pass (valid data, invalid data, data
aimed at objects that exist, one hostile value in valid data). Every response goes through
every check; a failure is recorded, not raised, so one run reports every distinct problem
rather than the first, and no time goes into shrinking. Tests then assert on the findings of
one promise each, and a failing test lists each finding with a curl command that shows it.

Why not ``schema.parametrize()``: the servers start inside fixtures, so the schema would be
loaded lazily (``schemathesis.pytest.from_fixture``), and schemathesis 4.32's lazy loader
fails under pytest 9.2 (it renames the test through ``Node._nodeid``, which is gone).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from tests.integration.security.hostile import with_hostile_value

# Model archives are bytes, like artifacts; schemathesis only knows how to send the latter.
schemathesis.serializer.alias("application/gzip", "application/octet-stream")

TIMEOUT_S = 10.0  # a request without an answer by then is a finding, not a hung test
NO_ANSWER = "no_answer"  # the check name of requests that got no response at all

Check = Callable[..., Any]
Operation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Any]
PathParameters = Callable[[Operation], Mapping[str, Any] | None]


@dataclass(frozen=True, order=True)
class Finding:
    """One distinct problem: the check it broke, the operation, and the status answered."""

    check: str
    operation: str
    status: int  # 0: no response
    title: str
    example: str = field(compare=False)  # a curl command that reproduces it
    answer: str = field(compare=False, default="")  # the start of the response body


@dataclass(frozen=True)
class Pass:
    """One way of generating requests for every operation."""

    name: str
    mode: GenerationMode
    # Fixed path parameters for an operation; None when the pass does not apply to it.
    path_parameters: PathParameters = lambda _: {}
    prepare: Callable[[AnyCase], AnyCase] = lambda case: case  # e.g. name real objects in the body
    hostile: bool = False  # then set one field by hostile.with_hostile_value


@dataclass
class Report:
    findings: dict[tuple[str, str, int, str], Finding] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation, status)
    nothing_to_negate: list[str] = field(default_factory=list)

    def of(self, *checks: str) -> list[Finding]:
        return sorted(f for f in self.findings.values() if f.check in checks)

    def add(self, finding: Finding) -> None:
        key = (finding.check, finding.operation, finding.status, finding.title)
        self.findings.setdefault(key, finding)


_ANY = ({"type": "string"}, {"type": "string", "format": "binary"})


def _negatable(operation: Operation) -> Mapping[str, Any] | None:
    """Only inputs narrower than "any string" or "any bytes" can be made invalid; searching
    for an invalid one of those costs seconds and fails."""
    if len(operation.query) or len(operation.headers):
        return {}
    schemas = [p.definition.get("schema", {}) for p in operation.path_parameters]
    schemas += [b.definition.get("schema", {}) for b in operation.body]
    for schema in schemas:
        if {k: v for k, v in schema.items() if k not in ("title", "description")} not in _ANY:
            return {}
    return None


POSITIVE = Pass("positive", GenerationMode.POSITIVE)
NEGATIVE = Pass("negative", GenerationMode.NEGATIVE, _negatable)


def hostile(
    name: str,
    path_parameters: PathParameters = lambda _: {},
    prepare: Callable[[AnyCase], AnyCase] = lambda case: case,
) -> Pass:
    """Valid requests, each with one field set to a hostile value for its type."""
    return Pass(name, GenerationMode.POSITIVE, path_parameters, prepare, hostile=True)


def settings(budget: int) -> hypothesis.settings:
    """A fixed budget, the same examples on every run, no shrinking and no database."""
    return hypothesis.settings(
        max_examples=budget,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )


def fuzz(
    schema: BaseSchema,
    checks: Mapping[str, Check],
    passes: Sequence[Pass] = (POSITIVE, NEGATIVE, hostile("hostile")),
    budget: int = 15,
) -> Report:
    """Send ``budget`` requests per operation and pass; record what each check rejects."""
    report = Report()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an invalid operation: {result}"
        operation = result.ok()
        for each in passes:
            fixed = each.path_parameters(operation)
            if fixed is None:  # the pass does not apply to this operation
                continue
            strategy = operation.as_strategy(each.mode, path_parameters=dict(fixed))
            strategy = strategy.map(each.prepare)
            if each.hostile:
                strategy = strategy.flatmap(with_hostile_value)
            try:
                _run(strategy, budget, lambda case: _attack(case, checks, report))
            except hypothesis.errors.Unsatisfiable:
                if each.mode is not GenerationMode.NEGATIVE:
                    raise
                report.nothing_to_negate.append(operation.label)  # e.g. any bytes are valid
    return report


def _run(strategy: SearchStrategy[AnyCase], budget: int, attack: Callable[[AnyCase], None]) -> None:
    @settings(budget)
    @hypothesis.given(strategy)
    def run(case: AnyCase) -> None:
        attack(case)

    run()


def _attack(case: AnyCase, checks: Mapping[str, Check], report: Report) -> None:
    label = f"{case.method.upper()} {case.operation.path}"
    try:
        response = case.call(timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        report.add(Finding(NO_ANSWER, label, 0, type(exc).__name__, case.as_curl_command()))
        return
    report.statuses[label, response.status_code] += 1
    if not _within_operation(case, response):
        return  # dot segments took the URL out of the operation (to "/", a web page)
    curl = case.as_curl_command(headers=dict(response.request.headers))
    answer = response.content[:300].decode("utf-8", "replace")
    for name, check in checks.items():
        try:
            case.validate_response(response, checks=[check])
        except FailureGroup as group:
            for failure in group.exceptions:
                first = failure.message.strip().splitlines()[:1]
                title = f"{failure.title}: {first[0] if first else ''}"[:300]
                report.add(Finding(name, label, response.status_code, title, curl, answer))


def _within_operation(case: AnyCase, response: requests.Response) -> bool:
    """Whether the request reached the operation's own path: a generated ``..`` is folded
    away by the client before sending, and the URL then names another resource entirely."""
    static = case.operation.path.split("{", 1)[0]
    sent = urlsplit(response.request.url).path
    return sent.startswith(static.rstrip("/")) if static.strip("/") else True


def describe(findings: Sequence[Finding]) -> str:
    """Findings as a list a reader can act on: what, where, and a request that shows it."""
    lines = [f"{len(findings)} distinct finding(s):"]
    for f in findings:
        lines.append(f"- {f.operation} -> {f.status or 'no response'}: {f.title}")
        lines.append(f"    {f.example[:600]}")
        if f.answer:
            lines.append(f"    answered: {f.answer}")
    return "\n".join(lines)
