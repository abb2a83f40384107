"""Model URIs: ``runs:/<run id>/<path>`` names a model logged by a run."""

from __future__ import annotations

from dataclasses import dataclass

from gnomon.errors import InvalidInput

RUNS_SCHEME = "runs:/"


@dataclass(frozen=True, slots=True)
class RunModelUri:
    run_id: str
    path: str

    def __str__(self) -> str:
        return f"{RUNS_SCHEME}{self.run_id}/{self.path}"


def parse_run_uri(uri: str) -> RunModelUri:
    """``runs:/<run id>/<artifact path>``; anything else is ``InvalidInput`` naming the URI."""
    if not isinstance(uri, str) or not uri.startswith(RUNS_SCHEME):
        raise InvalidInput(f"not a run model URI: {uri!r} (expected runs:/<run id>/<path>)")
    rest = uri[len(RUNS_SCHEME) :].strip("/")
    run_id, _, path = rest.partition("/")
    if not run_id or not path or ".." in path.split("/"):
        raise InvalidInput(f"invalid run model URI {uri!r}: expected runs:/<run id>/<path>")
    return RunModelUri(run_id, path.strip("/"))
