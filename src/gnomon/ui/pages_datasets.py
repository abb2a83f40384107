"""The datasets pages: the list, and one dataset's versions, schema, the shown version's
check and profile, and the runs and models that used it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import HTMLResponse

from gnomon.data.service import DatasetService
from gnomon.tracking.validation import NAME_LENGTH
from gnomon.ui.common import Looker, OptionalText, matching, service
from gnomon.ui.dataset_views import (
    MAX_ANOMALIES,
    MAX_SCHEMA_COLUMNS,
    current_schema,
    profile_view,
    validation_of,
    versions_page,
)
from gnomon.ui.render import PageRoute, page

router = APIRouter(route_class=PageRoute)

DATASETS_LISTED = 1000

DatasetName = Annotated[str, Path(min_length=1, max_length=NAME_LENGTH)]
VersionNumber = Annotated[int | None, Query(ge=1, lt=2**31)]


@router.get("/datasets")
def datasets_page(request: Request, viewer: Looker, q: OptionalText = None) -> HTMLResponse:
    """The workspace's datasets (those the viewer may see), by name; ``q`` narrows by name."""
    found = matching(service(request, DatasetService).list(viewer.scope), q)
    return page(
        request,
        "datasets.html",
        viewer,
        datasets=found[:DATASETS_LISTED],
        total=len(found),
        q=q or "",
    )


@router.get("/datasets/{name:path}")
def dataset_page(
    request: Request,
    viewer: Looker,
    name: DatasetName,
    version: VersionNumber = None,
    top: VersionNumber = None,
    profile: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """One dataset; ``?version=N`` picks the version shown (else the latest), ``top`` the
    first of the page of versions listed, ``profile=true`` computes a large version's
    profile."""
    datasets = service(request, DatasetService)
    scope = viewer.scope
    dataset = datasets.get(scope, name)
    shown = datasets.version(scope, f"{dataset.name}@{version or dataset.latest_version}")
    described, validation = validation_of(datasets, scope, shown)
    return page(
        request,
        "dataset.html",
        viewer,
        dataset=dataset,
        shown=shown,
        listing=versions_page(datasets, scope, dataset, top),
        schema=current_schema(datasets, scope, dataset.name),
        described=described,
        validation=validation,
        profile=profile_view(datasets, scope, shown, profile),
        used=datasets.used_by(scope, shown.ref),
        max_columns=MAX_SCHEMA_COLUMNS,
        max_anomalies=MAX_ANOMALIES,
    )
