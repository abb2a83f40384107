"""Resolving what ``gnomon serve`` serves, in each worker: a model URI becomes a one-arm route
table; a deployment name becomes its arms, reloaded when the deployment changes."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from gnomon.config import Settings
from gnomon.errors import InvalidInput
from gnomon.serving.batching import BatchConfig
from gnomon.serving.enforce import Policy

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from gnomon.models import LoadedModel
    from gnomon.sdk import Client
    from gnomon.serving.routing import RouteTable, ServedModel

SERVE_ENV = "_GNOMON_SERVE"  # internal: the serve options, passed to uvicorn worker processes


@dataclass(frozen=True, slots=True)
class ServeOptions:
    uri: str | None = None
    deployment: str | None = None  # serve this deployment (instead of ``uri``)
    policy: str = Policy.REJECT.value
    records: bool = True
    batch_max_rows: int = 64
    batch_wait_ms: float = 2.0
    batching: bool | None = None  # None: follow the model's declaration
    poll_seconds: float = 2.0
    model_name: str | None = None  # what answers and records call a served folder
    model_version: int | None = None

    def __post_init__(self) -> None:
        if (self.uri is None) == (self.deployment is None):
            raise InvalidInput("serve either a model URI or --deployment NAME (exactly one)")

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeOptions:
        return cls(**json.loads(os.environ[SERVE_ENV]))


def load_served(options: ServeOptions, settings: Settings) -> ServedModel:
    """Load the model (NotFound naming an unknown model, version or alias) and its identity."""
    from gnomon.registry.fluent import load_model
    from gnomon.sdk import Client
    from gnomon.serving.routing import ServedModel

    assert options.uri is not None
    client = Client(settings=settings)
    name, version = _identity(client, options.uri)
    name = options.model_name or name
    version = options.model_version if options.model_version is not None else version
    model = load_model(options.uri, client)
    wanted = model.batchable if options.batching is None else options.batching
    batching = BatchConfig(options.batch_max_rows, options.batch_wait_ms) if wanted else None
    return ServedModel(
        model=model,
        name=name,
        version=version,
        uri=options.uri,
        deployment=name,
        policy=Policy(options.policy),
        batching=batching,
    )


class DeploymentLoader:
    """Builds a deployment's route table, reusing models (and their batchers) already loaded.

    ``__call__(previous)`` returns ``None`` when neither the deployment's revision nor what
    its aliases resolve to has changed, so polling costs one read per arm and loads nothing.
    """

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name

    def __call__(self, previous: RouteTable | None = None) -> RouteTable | None:
        from gnomon.registry.fluent import load_model
        from gnomon.serving.routing import RouteTable, ServedArm

        deployment, resolved = self.client.deployments.resolve(self.name)
        versions = tuple((r.arm.model, r.version) for r in resolved)
        if (
            previous is not None
            and previous.revision == deployment.revision
            and previous.versions == versions
        ):
            return None
        config = deployment.config
        batch = BatchConfig(config.batch_max_rows, config.batch_wait_ms)
        loaded: dict[tuple[str, int | None], LoadedModel] = {}
        batchers = {}
        if previous is not None:
            for arm in previous.arms:
                loaded[(arm.name, arm.version)] = arm.model
                if arm.batcher is not None and _same_batching(previous, deployment.config):
                    batchers[(arm.name, arm.version)] = arm.batcher
        arms = []
        for item in resolved:
            key = (item.arm.model, item.version)
            if key not in loaded:
                loaded[key] = load_model(f"models:/{key[0]}/{key[1]}", self.client)
            arms.append(
                ServedArm(
                    loaded[key],
                    item.arm.model,
                    item.version,
                    item.arm.uri,
                    item.arm.role.value,
                    item.arm.weight,
                    batcher=batchers.get(key) if item.arm.role.value != "shadow" else None,
                )
            )
        table = RouteTable(
            deployment.name,
            tuple(a for a in arms if a.role != "shadow"),
            tuple(a for a in arms if a.role == "shadow"),
            deployment.routing.ab_key,
            Policy(config.policy),
            deployment.revision,
            versions,
            batch_config=batch,
        )
        table.with_batching(batch, config.batching)
        return table


def _same_batching(previous: RouteTable, config) -> bool:  # type: ignore[no-untyped-def]
    old = previous.batch_config
    return old is not None and (old.max_rows, old.max_wait_ms) == (
        config.batch_max_rows,
        config.batch_wait_ms,
    )


def _identity(client: Client, uri: str) -> tuple[str, int | None]:
    if uri.startswith("models:/"):
        from gnomon.registry.service import parse_model_uri

        name, selector = parse_model_uri(uri)
        return name, client.registry.get_version(name, selector).version
    if uri.startswith("runs:/"):
        return uri.split("/")[1], None
    return os.path.basename(uri.rstrip("/")) or "model", None


def app_from_environment() -> Starlette:
    """Factory for uvicorn workers: each loads its models once."""
    return build_app(ServeOptions.from_env(), Settings())


def build_app(options: ServeOptions, settings: Settings) -> Starlette:
    """The serving app ``options`` describe, with records in the workspace's artifact store."""
    from gnomon.artifacts import open_artifact_store
    from gnomon.sdk import Client
    from gnomon.serving.app import Routes, create_routed_app
    from gnomon.serving.records import OutcomeWriter, RecordWriter
    from gnomon.serving.routing import single_table

    if options.deployment is not None:
        loader = DeploymentLoader(Client(settings=settings), options.deployment)
        table = loader()
        assert table is not None
        routes = Routes(table, loader, options.poll_seconds)
    else:
        routes = Routes(single_table(load_served(options, settings)))
    if not options.records:
        return create_routed_app(routes)
    root = f"{settings.artifact_root}/{settings.workspace}/serving"
    store = open_artifact_store(root, s3_endpoint_url=settings.s3_endpoint_url)
    return create_routed_app(routes, RecordWriter(store), OutcomeWriter(store))
