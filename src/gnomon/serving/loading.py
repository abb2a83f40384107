"""Resolving what ``gnomon serve`` serves: a model URI becomes a ServedModel, in each worker."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from gnomon.config import Settings
from gnomon.serving.batching import BatchConfig
from gnomon.serving.enforce import Policy

SERVE_ENV = "_GNOMON_SERVE"  # internal: the serve options, passed to uvicorn worker processes


@dataclass(frozen=True, slots=True)
class ServeOptions:
    uri: str
    deployment: str | None = None
    policy: str = Policy.REJECT.value
    records: bool = True
    batch_max_rows: int = 64
    batch_wait_ms: float = 2.0
    batching: bool = True

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeOptions:
        return cls(**json.loads(os.environ[SERVE_ENV]))


def load_served(options: ServeOptions, settings: Settings):  # type: ignore[no-untyped-def]
    """Load the model (NotFound naming an unknown model, version or alias) and its identity."""
    from gnomon.registry.fluent import load_model
    from gnomon.sdk import Client
    from gnomon.serving.app import ServedModel

    client = Client(settings=settings)
    name, version = _identity(client, options.uri)
    model = load_model(options.uri, client)
    batching = (
        BatchConfig(options.batch_max_rows, options.batch_wait_ms) if options.batching else None
    )
    return ServedModel(
        model=model,
        name=name,
        version=version,
        uri=options.uri,
        deployment=options.deployment or name,
        policy=Policy(options.policy),
        batching=batching,
    )


def _identity(client, uri: str) -> tuple[str, int | None]:  # type: ignore[no-untyped-def]
    if uri.startswith("models:/"):
        from gnomon.registry.service import parse_model_uri

        name, selector = parse_model_uri(uri)
        return name, client.registry.get_version(name, selector).version
    if uri.startswith("runs:/"):
        return uri.split("/")[1], None
    return os.path.basename(uri.rstrip("/")) or "model", None


def app_from_environment():  # type: ignore[no-untyped-def]
    """Factory for uvicorn workers: each loads the model once."""
    from gnomon.artifacts import open_artifact_store
    from gnomon.serving.app import create_serving_app
    from gnomon.serving.records import OutcomeWriter, RecordWriter

    settings = Settings()
    options = ServeOptions.from_env()
    served = load_served(options, settings)
    if not options.records:
        return create_serving_app(served)
    root = f"{settings.artifact_root}/{settings.workspace}/serving"
    store = open_artifact_store(root, s3_endpoint_url=settings.s3_endpoint_url)
    return create_serving_app(served, RecordWriter(store), OutcomeWriter(store))
