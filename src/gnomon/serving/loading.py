"""Resolving what ``gnomon serve`` serves, in each worker: a model URI becomes a one-arm route
table; a deployment name becomes its arms, reloaded when the deployment changes.

Light to import (NumPy and pandas load with the model): ``gnomon build-image`` and
``gnomon predict`` use :func:`pin` too."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from gnomon.config import Settings
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from gnomon.modelfolder import LoadedModel
    from gnomon.sdk import Client
    from gnomon.serving.batching import Batcher
    from gnomon.serving.enrich import Enrich
    from gnomon.serving.reloading import Routes
    from gnomon.serving.routing import RouteTable, ServedModel

SERVE_ENV = "_GNOMON_SERVE"  # internal: the serve options, passed to uvicorn worker processes


@dataclass(frozen=True, slots=True)
class ServeOptions:
    uri: str | None = None
    deployment: str | None = None  # serve this deployment (instead of ``uri``)
    policy: str = "reject"  # a Policy value
    records: bool = True
    batch_max_rows: int = 64
    batch_wait_ms: float = 2.0
    batching: bool | None = None  # None: follow the model's declaration
    poll_seconds: float = 2.0
    model_name: str | None = None  # what answers and records call a served folder
    model_version: int | None = None
    workspace: str | None = None  # the CLI's --workspace, which workers cannot read from env
    feature_service: str | None = None  # enrich requests with this service's online features

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
    from gnomon.serving.batching import BatchConfig
    from gnomon.serving.enforce import Policy
    from gnomon.serving.routing import ServedModel

    assert options.uri is not None
    client = Client(settings=settings)
    name, version, exact = _identity(client, options.uri)
    name = options.model_name or name
    version = options.model_version if options.model_version is not None else version
    model = load_model(exact, client)
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
        workspace_id=client.scope.workspace,
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
        from gnomon.serving.batching import BatchConfig
        from gnomon.serving.enforce import Policy
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
        batchers: dict[tuple[str, int | None], Batcher] = {}
        if previous is not None:
            for arm in previous.arms:
                loaded[(arm.name, arm.version)] = arm.model
                if arm.batcher is not None and previous.batch_config == batch:
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
            workspace_id=deployment.workspace_id,
        )
        table.with_batching(batch, config.batching, reuse=batchers)
        return table


def pin(uri: str, client: Client) -> tuple[str, int, str]:
    """A ``models:/`` URI's model, the version it names now and that version's own URI.

    Loading by the number resolves an alias once, so the version recorded is the one whose
    files answer, even if the alias moves in between.
    """
    from gnomon.registry.service import parse_model_uri

    name, selector = parse_model_uri(uri)
    version = client.registry.get_version(name, selector).version
    return name, version, f"models:/{name}/{version}"


def _identity(client: Client, uri: str) -> tuple[str, int | None, str]:
    """The name and version answers and records give the model, and the URI to load."""
    if uri.startswith("models:/"):
        return pin(uri, client)
    if uri.startswith("runs:/"):
        return uri.split("/")[1], None, uri
    return os.path.basename(uri.rstrip("/")) or "model", None, uri


def app_from_environment() -> Starlette:
    """Factory for uvicorn workers: each loads its models once."""
    options = ServeOptions.from_env()
    settings = Settings(workspace=options.workspace) if options.workspace else Settings()
    return build_app(options, settings)


def load_routes(options: ServeOptions, settings: Settings) -> Routes:
    """What ``options`` serve, loaded: one model, or a deployment's arms and their reloader.

    Raises:
        NotFound: the model, version, alias or deployment does not exist.
        InvalidInput: a tampered model folder, or the flavor's library missing.
    """
    from gnomon.sdk import Client
    from gnomon.serving.reloading import Routes
    from gnomon.serving.routing import single_table

    if options.deployment is None:
        return Routes(single_table(load_served(options, settings)))
    loader = DeploymentLoader(Client(settings=settings), options.deployment)
    table = loader()
    assert table is not None
    return Routes(table, loader, options.poll_seconds)


def build_app(options: ServeOptions, settings: Settings, routes: Routes | None = None) -> Starlette:
    """The serving app ``options`` describe (over ``routes`` when they are loaded already),
    with records and outcomes in the predictions store of the workspace it serves from."""
    from gnomon.predictions.records import OutcomeWriter, RecordWriter
    from gnomon.predictions.storage import predictions_store
    from gnomon.serving.app import ModelServer
    from gnomon.serving.limits import BodyLimits

    if routes is None:
        routes = load_routes(options, settings)
    limits = BodyLimits.from_settings(settings)
    enrich = _enricher(options, settings)
    if not options.records:
        return _frozen(ModelServer(routes, limits=limits, enrich=enrich).app())
    # The id, as every path that reads them keys the folder, never the workspace's name.
    workspace_id = routes.table.workspace_id
    assert workspace_id is not None, "load_routes gives every table its workspace"
    store = predictions_store(
        settings.artifact_root,
        workspace_id,
        settings.s3_endpoint_url,
        workspace_name=settings.workspace,  # adopts its files from before they were keyed by id
    )
    server = ModelServer(routes, RecordWriter(store), OutcomeWriter(store), limits, enrich)
    return _frozen(server.app())


def _enricher(options: ServeOptions, settings: Settings) -> Enrich | None:
    """The feature service's online lookup, when ``--feature-service`` names one."""
    if options.feature_service is None:
        return None
    from gnomon.sdk import Client
    from gnomon.serving.enrich import FeatureEnricher

    client = Client(settings=settings)
    features = getattr(client, "features", None)
    if features is None:
        raise InvalidInput(
            "--feature-service reads the online store beside the metadata database: serve "
            "with the embedded store (no GNOMON_URI)"
        )
    return FeatureEnricher(features, options.feature_service)


def _frozen(app: Starlette) -> Starlette:
    """``app``, with everything loaded so far moved out of the garbage collector's sight.

    The models, their libraries and the app live as long as the process. Left tracked, each
    full collection walks them all again, a cost every request pays in turn (about a third of
    W3b's requests/s with the imports a lazily started CLI leaves to later generations).
    """
    import gc

    gc.collect()
    gc.freeze()
    return app
