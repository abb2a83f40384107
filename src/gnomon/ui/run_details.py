"""A run's page beyond its numbers: artifacts (listed, previewed), code version, environment,
input datasets and the models it logged; and the answer for one artifact's bytes."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from gnomon.errors import GnomonError, NotFound, PayloadTooLarge
from gnomon.tracking.entities import Run
from gnomon.tracking.search import build_query
from gnomon.ui.render import HEADERS
from gnomon.ui.session import Viewer

IMAGES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
TEXTS = frozenset(
    {".txt", ".json", ".yaml", ".yml", ".md", ".py", ".log", ".diff", ".toml", ".cfg", ".ini"}
)
TABLES = frozenset({".parquet", ".csv"})
PREVIEW_BYTES = 5 * 1024 * 1024  # read to preview at most this much
TEXT_SHOWN = 200 * 1024
TABLE_ROWS = 50
TABLE_COLUMNS = 100
CELL_CHARS = 500
DOWNLOAD_BYTES = 100 * 1024 * 1024  # bigger ones: gnomon artifacts download
LISTED = 500


def run_details(request: Request, viewer: Viewer, run: Run, path: str) -> dict[str, Any]:
    """What the run page shows beside params and metrics; ``path`` is the artifact folder or
    file being looked at."""
    services = request.app.state.services
    tracking = services.tracking
    tags = run.tags
    code = {
        "commit": tags.get("gnomon.git.commit", ""),
        "branch": tags.get("gnomon.git.branch", ""),
        "remote": tags.get("gnomon.git.remote", ""),
        "dirty": tags.get("gnomon.git.dirty") == "true",
        "entry_point": tags.get("gnomon.source.entry_point", ""),
    }
    environment = {
        "python": tags.get("gnomon.python.version", ""),
        "host": tags.get("gnomon.host", ""),
    }
    artifacts, preview = _artifacts(tracking, viewer, run, path)
    recorded = _listing(tracking, viewer, run, "gnomon")  # the diff's and requirements' folder
    return {
        "code": code,
        "environment": environment,
        "diff": _text_artifact(tracking, viewer, run, "gnomon/git.diff", recorded),
        "requirements": _text_artifact(tracking, viewer, run, "gnomon/requirements.txt", recorded),
        "artifacts": artifacts,
        "artifact_path": path,
        "preview": preview,
        "inputs": _inputs(services, viewer, run),
        "models": _models(services, viewer, run),
        "children": _children(tracking, viewer, run),
        "user_tags": {k: v for k, v in sorted(tags.items()) if not k.startswith("gnomon.")},
    }


def _artifacts(tracking: Any, viewer: Viewer, run: Run, path: str) -> tuple[list[Any], Any]:
    is_file = bool(path) and bool(PurePosixPath(path).suffix)  # a file: list its folder
    listed = _listing(tracking, viewer, run, _folder(path) if is_file else path)
    preview = _preview(tracking, viewer, run, path, listed) if is_file else None
    return (listed or [])[:LISTED], preview


def _folder(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


def _listing(tracking: Any, viewer: Viewer, run: Run, folder: str) -> list[Any] | None:
    """The folder's entries; None when it cannot be listed."""
    try:
        return list(tracking.list_artifacts(viewer.scope, run.id, folder))
    except GnomonError:
        return None


def _preview(
    tracking: Any, viewer: Viewer, run: Run, path: str, listed: list[Any] | None
) -> dict[str, Any]:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGES:
        return {"kind": "image", "path": path}
    if suffix not in TEXTS and suffix not in TABLES:
        return {"kind": "download", "path": path}
    try:
        data = _read(tracking, viewer, run, path, PREVIEW_BYTES, listed)
    except GnomonError as exc:
        return {"kind": "error", "path": path, "message": str(exc)}
    if suffix in TEXTS:
        text = data[:TEXT_SHOWN].decode("utf-8", "replace")
        return {"kind": "text", "path": path, "text": text, "cut": len(data) > TEXT_SHOWN}
    try:
        return {"kind": "table", "path": path, **_table(data, suffix)}
    except Exception as exc:  # a damaged or foreign file: say so, never fail the page
        return {"kind": "error", "path": path, "message": f"not a readable table: {exc}"[:300]}


def _table(data: bytes, suffix: str) -> dict[str, Any]:
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if suffix == ".parquet":
        file = pq.ParquetFile(io.BytesIO(data))
        meta = file.metadata
        # A few KiB of Parquet can unpack to gigabytes (one huge cell): read it only when
        # its first row group is small once unpacked.
        if meta.num_row_groups and meta.row_group(0).total_byte_size > PREVIEW_BYTES:
            raise PayloadTooLarge(
                f"its first row group unpacks to {meta.row_group(0).total_byte_size} bytes, "
                f"over the preview's {PREVIEW_BYTES}"
            )
        table = next(file.iter_batches(batch_size=TABLE_ROWS), None)
        total = meta.num_rows
        columns = file.schema_arrow.names
    else:
        table = pa_csv.read_csv(io.BytesIO(data))
        total, columns = table.num_rows, table.column_names
        table = table.slice(0, TABLE_ROWS)
    rows = [] if table is None else [list(r.values())[:TABLE_COLUMNS] for r in table.to_pylist()]
    shown = [[_cell(v) for v in row] for row in rows]
    return {"columns": columns[:TABLE_COLUMNS], "rows": shown, "total": total}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"


def _read(
    tracking: Any, viewer: Viewer, run: Run, path: str, limit: int, listed: list[Any] | None = None
) -> bytes:
    """The artifact's bytes, its size checked first in ``listed`` (its folder's entries,
    listed here when not given)."""
    if listed is None:
        listed = tracking.list_artifacts(viewer.scope, run.id, _folder(path))
    size = _size(listed, run, path)
    if size is not None and size > limit:
        raise PayloadTooLarge(
            f"{path} is {size} bytes, over the {limit}-byte limit of the page; "
            f"download it with: gnomon artifacts download {run.id}"
        )
    data: bytes = tracking.load_bytes(viewer.scope, run.id, path)
    return data


def _size(listed: list[Any], run: Run, path: str) -> int | None:
    name = PurePosixPath(path).name
    for info in listed:
        if PurePosixPath(info.path).name == name and not info.is_dir:
            return int(info.size) if info.size is not None else None
    raise NotFound(f"run {run.id} has no artifact {path!r}")


def _text_artifact(
    tracking: Any, viewer: Viewer, run: Run, path: str, listed: list[Any] | None
) -> str:
    if listed is None:  # its folder cannot be listed: there is nothing to show
        return ""
    try:
        return _read(tracking, viewer, run, path, TEXT_SHOWN, listed).decode("utf-8", "replace")
    except GnomonError:
        return ""


def _inputs(services: Any, viewer: Viewer, run: Run) -> list[Any]:
    from gnomon.data.service import DatasetService

    datasets = services.find(DatasetService)
    try:
        return list(datasets.inputs(viewer.scope, run.id)) if datasets else []
    except GnomonError:
        return []


def _models(services: Any, viewer: Viewer, run: Run) -> list[str]:
    registry = services.registry
    try:
        return registry.logged_model_paths(viewer.scope, run.id) if registry else []
    except GnomonError:
        return []


def _children(tracking: Any, viewer: Viewer, run: Run) -> list[Run]:
    try:
        query = build_query([run.experiment_id], f"parent_run_id = '{run.id}'", max_results=100)
        found = tracking.search_query(viewer.scope, query)  # by id: no lookup by name first
    except GnomonError:
        return []
    return list(found)


def artifact_answer(
    request: Request, viewer: Viewer, run: Run, path: str, download: bool
) -> Response:
    """An artifact's bytes: an image inline (its own type, under the page's policy), anything
    else as an attachment of a neutral type, so no artifact runs as a page of this site."""
    tracking = request.app.state.services.tracking
    data = _read(tracking, viewer, run, path, DOWNLOAD_BYTES)
    kind = IMAGES.get(PurePosixPath(path).suffix.lower())
    headers = dict(HEADERS)
    if kind is None or download:
        headers["content-disposition"] = _attachment(PurePosixPath(path).name)
        kind = "application/octet-stream"
    return Response(data, media_type=kind, headers=headers)


def _attachment(name: str) -> str:
    """A download header for any file name: printable ASCII only in ``filename`` (a CR or LF
    in a logged name would break the header), the exact name in ``filename*``."""
    plain = "".join(c for c in name if " " <= c <= "~" and c not in '"\\;') or "artifact"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
