"""Run ONE node of a pipeline, as a container of a compiled workflow (Argo, Kubeflow) does.

    python -m gnomon.pipelines.step_entry --pipeline module:attr --node ID --out PATH
        [--param NAME=TEXT ...] [--params JSON] [--upstream NODE JSON ...] [--inputs JSON]
        [--run-id ID] [--retry N] [--timeout SECONDS]

``--upstream NODE JSON`` hands over what an upstream node wrote to its ``--out`` (the JSON
list of its outputs' metadata); each input bound to that node's output is picked from it by
the pipeline's own bindings, so the engine only passes whole files along. ``--inputs`` gives
inputs directly instead: ``{"input name": {output metadata}}``. Parameters come as
``--param name=TEXT`` (parsed by the parameter's annotation, as ``gnomon pipeline run -p``
does) or as ``--params '{"name": value}'``; constants are read from the pipeline itself.

The step's values live in the artifact store, read from the environment like every gnomon
process (``config.Settings``): ``GNOMON_ARTIFACTS`` (a folder, ``s3://bucket/prefix`` or any
other root ``ObjectsAddress`` opens; default ``$GNOMON_HOME/artifacts``),
``GNOMON_S3_ENDPOINT_URL``, and ``GNOMON_WORKSPACE``, taken as the workspace's id: the
objects go under ``<root>/<workspace>/pipelines/objects`` (``default``, where gnomon's own
runs in the default workspace keep theirs). S3 credentials come the usual way
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, …).

Exit status: 0 with the outputs JSON written to ``--out``; 1 when the step failed (its
error on stderr, nothing written); 2 when the call itself is wrong (a bad argument, a missing
input).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from types import FrameType
from typing import Any

from gnomon.errors import GnomonError, InvalidInput, UserCodeError
from gnomon.pipelines.context import StepContext
from gnomon.pipelines.params import check_values, parse_pairs
from gnomon.pipelines.spec import Node, OutputOf, OutputsOf, ParamOf, PipelineSpec, Value
from gnomon.pipelines.task import ArtifactRef, Inputs, OutputMeta, StepOutcome, StepTask, execute


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gnomon.pipelines.step_entry",
        description="Run one node of a gnomon pipeline (what a compiled workflow's step does).",
    )
    parser.add_argument("--pipeline", required=True, help="the pipeline, module:attribute")
    parser.add_argument("--node", required=True, help="the node id to run")
    parser.add_argument("--out", required=True, type=Path, help="write the outputs JSON here")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=TEXT")
    parser.add_argument("--params", default="{}", metavar="JSON", help='{"name": value}')
    parser.add_argument(
        "--upstream", action="append", nargs=2, default=[], metavar=("NODE", "JSON")
    )
    parser.add_argument("--inputs", default="{}", metavar="JSON", help='{"input": metadata}')
    parser.add_argument("--run-id", default="", help="the workflow run this step belongs to")
    parser.add_argument("--retry", type=int, default=0, help="0 on the first try, then 1, …")
    parser.add_argument("--timeout", type=float, default=None, help="seconds the step may run")
    return parser


def _json(text: str, what: str, kind: type) -> Any:
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{what} is not JSON ({exc}): {text[:80]!r}") from None
    if not isinstance(found, kind):
        raise InvalidInput(f"{what} must be a JSON {kind.__name__}, not {text[:80]!r}")
    return found


def _meta(found: Any, what: str) -> OutputMeta:
    if not isinstance(found, Mapping) or not {"digest", "kind"} <= found.keys():
        raise InvalidInput(f"{what} is not output metadata (with digest and kind)")
    try:
        size = int(found.get("size", 0))
    except (TypeError, ValueError):
        raise InvalidInput(f"{what}: size is not a number") from None
    link = found.get("link")
    return OutputMeta(
        name=str(found.get("name", "")),
        digest=str(found["digest"]),
        kind=str(found["kind"]),
        type_name=str(found.get("type_name", "")),
        size=size,
        preview=str(found.get("preview", "")),
        link=None if link is None else str(link),
    )


def _params(spec: PipelineSpec, node: Node, args: argparse.Namespace) -> dict[str, Any]:
    """The values of the parameters this node reads: given, else their defaults."""
    given = {**_json(args.params, "--params", dict), **parse_pairs(spec, args.param)}
    known = {param.name: param for param in spec.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidInput(f"pipeline {spec.name!r} has no parameter {unknown[0]!r}")
    read = [known[name] for name in node.params_read()]
    read = list({param.name: param for param in read}.values())
    values = {}
    for param in read:
        if param.name in given:
            values[param.name] = given[param.name]
        elif param.required:
            raise InvalidInput(f"step {node.id!r} needs pipeline parameter {param.name!r}")
        else:
            values[param.name] = param.default
    return check_values(replace(spec, params=tuple(read)), values)


def _artifacts(node: Node, args: argparse.Namespace) -> dict[str, Inputs]:
    direct = _json(args.inputs, "--inputs", dict)
    upstream = {source: _json(text, f"--upstream {source}", list) for source, text in args.upstream}
    found: dict[str, Inputs] = {}
    for name, binding in node.args.items():
        if not isinstance(binding, OutputOf | OutputsOf):
            if name in direct:
                raise InvalidInput(f"step {node.id!r}: input {name!r} is not read from a step")
            continue
        if name in direct:
            given = direct[name]
            if isinstance(binding, OutputsOf):
                if not isinstance(given, list):
                    raise InvalidInput(f"--inputs {name}: a list of outputs' metadata is needed")
                found[name] = tuple(_meta(m, f"--inputs {name}").ref() for m in given)
            else:
                found[name] = _meta(given, f"--inputs {name}").ref()
            continue
        if isinstance(binding, OutputsOf):
            found[name] = tuple(_picked(node, name, item, upstream) for item in binding.items)
        else:
            found[name] = _picked(node, name, binding, upstream)
    unknown = sorted(set(direct) - set(node.args))
    if unknown:
        raise InvalidInput(f"step {node.id!r} has no input {unknown[0]!r}")
    return found


def _picked(
    node: Node, name: str, binding: OutputOf, upstream: dict[str, list[Any]]
) -> ArtifactRef:
    """The output ``binding`` names, from what its step wrote (``--upstream NODE JSON``)."""
    if binding.node not in upstream:
        raise InvalidInput(
            f"step {node.id!r}: input {name!r} reads step {binding.node!r}, whose outputs "
            f"are not given (--upstream {binding.node} JSON)"
        )
    metas = [_meta(item, f"--upstream {binding.node}") for item in upstream[binding.node]]
    meta = next((m for m in metas if m.name == binding.output), None)
    if meta is None:
        raise InvalidInput(
            f"step {node.id!r}: the outputs given for step {binding.node!r} have no "
            f"{binding.output!r}"
        )
    return meta.ref()


def build_task(args: argparse.Namespace) -> StepTask:
    from gnomon.config import Settings
    from gnomon.pipelines.loading import load_pipeline
    from gnomon.pipelines.objects import ObjectsAddress

    spec = load_pipeline(args.pipeline).build()
    node = spec.node(args.node)
    values: dict[str, Any] = {}
    params = _params(spec, node, args)
    for name, binding in node.args.items():
        if isinstance(binding, ParamOf):
            values[name] = params[binding.name]
        elif isinstance(binding, Value):
            values[name] = binding.value
    if args.retry < 0:
        raise InvalidInput(f"--retry counts from 0, not {args.retry}")
    if args.timeout is not None and not args.timeout > 0:
        raise InvalidInput(f"--timeout is a number of seconds above 0, not {args.timeout}")
    try:
        settings = Settings()
    except ValueError as exc:  # pydantic's ValidationError: a GNOMON_* variable is wrong
        raise InvalidInput(f"the environment's settings are wrong: {exc}") from None
    attempt = args.retry + 1
    return StepTask(
        node=node.id,
        function=node.step.function,
        artifacts=_artifacts(node, args),
        values=values,
        outputs=tuple(port.name for port in node.step.outputs),
        objects=ObjectsAddress(
            settings.artifact_root, settings.workspace, settings.s3_endpoint_url
        ),
        attempt=attempt,
        context=StepContext(spec.name, args.run_id, node.id, attempt, None),
    )


@contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise TimeoutError in the step when it runs past ``seconds`` (the step fails)."""
    if seconds is None:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the step ran past its timeout of {seconds:g} seconds")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def report(outcome: StepOutcome, out: Path) -> int:
    """Print the step's output, then write its outputs JSON (0) or its error (1)."""
    if outcome.logs:
        sys.stdout.write(outcome.logs if outcome.logs.endswith("\n") else outcome.logs + "\n")
        sys.stdout.flush()
    if outcome.error is not None:
        if outcome.error.traceback:
            sys.stderr.write(outcome.error.traceback)
        error = outcome.error
        print(f"step {outcome.node!r} failed: {error.type}: {error.message}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(meta) for meta in outcome.outputs]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        task = build_task(args)
    except UserCodeError as exc:  # the pipeline's module raised while importing
        print(f"step_entry: {exc}", file=sys.stderr)
        return 1
    except GnomonError as exc:
        print(f"step_entry: {exc}", file=sys.stderr)
        return 2
    try:
        with _deadline(args.timeout):
            outcome = execute(task)
    except Exception as exc:  # outside the step: opening the store, or a late deadline
        print(f"step {task.node!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return report(outcome, args.out)


if __name__ == "__main__":
    sys.exit(main())
