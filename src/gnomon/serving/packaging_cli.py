"""``gnomon build-image`` and ``gnomon k8s manifests``: a model as a container, a deployment
as Kubernetes objects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gnomon._version import __version__
from gnomon.cli.output import hint, say, state_of, warn, write_text
from gnomon.errors import InvalidInput, NotFound

k8s_app = typer.Typer(help="Kubernetes manifests for gnomon deployments.", no_args_is_help=True)


def build_image(
    ctx: typer.Context,
    uri: Annotated[
        str | None,
        typer.Argument(help="models:/name@alias, models:/name/3, runs:/id/path or a model folder"),
    ] = None,
    out: Annotated[
        Path | None, typer.Argument(help="Folder to create: the Docker build context.")
    ] = None,
    server: Annotated[
        Path | None,
        typer.Option(help="Write the tracking server's build context to this folder instead."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes in the container.")
    ] = 1,
    wheel: Annotated[
        Path | None,
        typer.Option(help="A gnomon wheel to install (default: one built from this gnomon)."),
    ] = None,
    from_index: Annotated[
        bool,
        typer.Option(
            "--from-index", help="Install gnomon==VERSION from the package index, not a wheel."
        ),
    ] = False,
    extra: Annotated[
        list[str] | None,
        typer.Option(
            help="A gnomon extra to install too (repeat; --server default: postgres, redis, s3)."
        ),
    ] = None,
    base_image: Annotated[
        str | None, typer.Option(help="FROM image (default: python:<this major.minor>-slim).")
    ] = None,
    pin_base: Annotated[
        bool,
        typer.Option("--pin-base", help="Refuse a base image without a digest (IMAGE@sha256:…)."),
    ] = False,
) -> None:
    """Write a Docker build context (Dockerfile, gnomon's wheel, a lock of every dependency)
    for a model, or with --server DIR for the tracking server."""
    from gnomon.serving.image_context import WHEEL_CACHE

    state = state_of(ctx)
    cache = state.settings.home / WHEEL_CACHE
    if server is not None:
        if uri is not None:
            raise InvalidInput("give a model URI and a folder, or --server FOLDER, not both")
        from gnomon.serving.image_server import SERVER_EXTRAS, build_server_context

        built = build_server_context(
            server, workers=workers, wheel=wheel, from_index=from_index,
            extras=extra or SERVER_EXTRAS, base_image=base_image, pin_base=pin_base,
            wheel_cache=cache,
        )  # fmt: skip
        _report(built.warnings, f"wrote a build context for the tracking server to {server}")
        hint(f"next: docker build -t {built.tag} {server}")
        return
    if uri is None or out is None:
        raise InvalidInput("give a model URI and the folder to write (or --server FOLDER)")
    from gnomon.serving.image import build_context

    # A local folder needs no store: don't open (or create) one for it.
    client = state.client if uri.startswith(("models:/", "runs:/")) else None
    context = build_context(
        uri, out, client=client, workers=workers, wheel=wheel, from_index=from_index,
        extras=extra or (), base_image=base_image, pin_base=pin_base, wheel_cache=cache,
    )  # fmt: skip
    title = f"{context.model.title} ({context.spec.flavor})"
    _report(context.warnings, f"wrote a build context for {title} to {out}")
    hint(f"next: docker build -t {context.model.tag} {out}")


def _report(warnings: list[str], done: str) -> None:
    for warning in warnings:
        warn(warning)
    say(done)


@k8s_app.command("manifests")
def k8s_manifests(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The gnomon deployment the pods serve.")],
    server_uri: Annotated[
        str | None,
        typer.Option(help="Tracking server as the pods reach it (default: GNOMON_URI if http)."),
    ] = None,
    image: Annotated[
        str, typer.Option(help="Image with gnomon and the models' libraries.")
    ] = f"gnomon:{__version__}",
    replicas: Annotated[
        int | None,
        typer.Option(min=1, help="Fixed starting count (default: left to the autoscaler)."),
    ] = None,
    min_replicas: Annotated[int, typer.Option(min=1)] = 2,
    max_replicas: Annotated[int, typer.Option(min=1)] = 10,
    cpu_target: Annotated[
        int, typer.Option(min=1, max=100, help="Average CPU % of requests to scale at.")
    ] = 70,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Container port.")] = 8080,
    namespace: Annotated[str | None, typer.Option(help="Namespace of every object.")] = None,
    token_secret: Annotated[
        str, typer.Option(help="Secret holding the API token (key --token-key).")
    ] = "gnomon-token",
    token_key: Annotated[str, typer.Option(help="Key of the token in the Secret.")] = "token",
    cpu_request: Annotated[str, typer.Option()] = "250m",
    memory_request: Annotated[str, typer.Option()] = "512Mi",
    cpu_limit: Annotated[
        str | None, typer.Option(help="Default: none (avoids throttling).")
    ] = None,
    memory_limit: Annotated[str, typer.Option()] = "1Gi",
    artifacts: Annotated[
        str | None,
        typer.Option(
            help="GNOMON_ARTIFACTS of the pods: the tracking server's s3://… root, where "
            "prediction records are kept (required unless --no-records)."
        ),
    ] = None,
    records: Annotated[
        bool, typer.Option(help="Record every prediction (--no-records: keep none).")
    ] = True,
    s3_secret: Annotated[
        str | None,
        typer.Option(
            help="Secret with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally "
            "AWS_REGION, GNOMON_S3_ENDPOINT_URL."
        ),
    ] = None,
    service_account: Annotated[
        str | None,
        typer.Option(
            help="Run as this service account, its token mounted (IRSA, workload identity)."
        ),
    ] = None,
    out: Annotated[str, typer.Option(help="A folder for <name>.yaml, or - for stdout.")] = "-",
) -> None:
    """Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget running
    `gnomon serve --deployment NAME`."""
    from gnomon.serving.k8s import ManifestOptions, dump, manifests, resource_name

    state = state_of(ctx)
    options = ManifestOptions(
        deployment=name,
        server_uri=server_uri or _server_uri(state.settings.uri),
        workspace=state.settings.workspace,
        image=image,
        namespace=namespace,
        replicas=replicas,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        cpu_target=cpu_target,
        port=port,
        token_secret=token_secret,
        token_key=token_key,
        cpu_request=cpu_request,
        memory_request=memory_request,
        cpu_limit=cpu_limit,
        memory_limit=memory_limit,
        artifacts=artifacts,
        records=records,
        s3_secret=s3_secret,
        service_account=service_account,
    )
    text = dump(manifests(options))  # bad options fail before the store is opened
    try:
        state.client.deployments.get(name)
    except NotFound:
        raise NotFound(
            f"deployment {name!r} not found in workspace {state.settings.workspace!r}: "
            "create it first with gnomon deploy create"
        ) from None
    if out == "-":
        write_text(text)
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{resource_name(name)}.yaml"
    target.write_text(text)
    say(f"wrote {target}")
    hint(f"next: kubectl apply -f {target}")


def _server_uri(configured: str | None) -> str:
    if configured and configured.startswith(("http://", "https://")):
        return configured
    raise InvalidInput(
        "--server-uri is required: the pods need the tracking server's http(s) address "
        "(GNOMON_URI here is not one)"
    )
