"""``gnomon runs artifacts ...``: list, show and download a run's artifacts, embedded or
through a server."""

from __future__ import annotations

import itertools
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gnomon.artifacts.keys import clean_key
from gnomon.artifacts.store import ArtifactInfo
from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_value,
    hint,
    new_table,
    print_json,
    say,
    write_text,
)
from gnomon.errors import InvalidInput, NotFound
from gnomon.suggestions import MAX_CANDIDATES, closest

if TYPE_CHECKING:
    from gnomon.sdk import Client

artifacts_app = typer.Typer(help="List, show and download a run's artifacts.")

# `show` reads the whole file before printing any of it: past these sizes, download it.
MAX_TEXT_BYTES = 1024 * 1024
MAX_TABLE_BYTES = 32 * 1024 * 1024
MAX_TABLE_COLUMNS = 20

_IMAGES = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ico", ".pdf"}
)
_LEXERS = {
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".py": "python",
    ".toml": "toml",
    ".md": "markdown",
    ".diff": "diff",
    ".patch": "diff",
    ".html": "html",
    ".xml": "xml",
    ".svg": "xml",
    ".sh": "bash",
    ".sql": "sql",
    ".ini": "ini",
    ".cfg": "ini",
}
# Control characters a terminal would obey (an escape sequence can retitle the window or
# hide text): shown as \xNN. Tabs and newlines stay.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (9, 10)}

RunArgument = Annotated[str, typer.Argument(help="Run id.", show_default=False)]


@artifacts_app.command("list")
def list_artifacts(
    ctx: typer.Context,
    run_id: RunArgument,
    path: Annotated[str, typer.Argument(help="A folder of the artifacts (default: all).")] = "",
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="List the files of every folder below.")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List a run's artifacts (one folder level, or every file with --recursive)."""
    client = client_of(ctx)
    key = _key(path, root=True)
    found = _walk(client, run_id, key) if recursive else client.list_artifacts(run_id, key)
    if not found and key:
        # An absent folder lists as empty: say which, or show the one file PATH names.
        found = [_entry(client, run_id, key)]
    if output is OutputFormat.JSON:
        print_json(found)
        return
    if not found:
        hint(f"run {run_id} has no artifacts")
        return
    table = new_table(None, "path", "type", "size")
    table.columns[0].overflow = "fold"  # whole paths, to copy them
    table.columns[2].justify = "right"
    for entry in found:
        size = MISSING if entry.size is None else format_size(entry.size)
        table.add_row(printable(entry.path), "dir" if entry.is_dir else "file", size)
    console().print(table)


@artifacts_app.command("show")
def show_artifact(
    ctx: typer.Context,
    run_id: RunArgument,
    path: Annotated[str, typer.Argument(help="The artifact file.", show_default=False)],
    rows: Annotated[
        int, typer.Option("--rows", min=1, max=1000, help="Rows of a Parquet table to show.")
    ] = 20,
) -> None:
    """Print a text, JSON or YAML artifact, or the first rows of a Parquet table.

    Text is highlighted in a terminal; images, binary and large files are for download.
    """
    client = client_of(ctx)
    key = _key(path)
    entry = _entry(client, run_id, key)
    if entry.is_dir:
        raise InvalidInput(
            f"artifact {key!r} is a folder: list it with 'gnomon runs artifacts list {run_id} "
            f"{key}'"
        )
    suffix = PurePosixPath(key).suffix.lower()
    if suffix in _IMAGES:
        raise _download_instead(run_id, key, f"is an image ({suffix[1:].upper()})")
    limit = MAX_TABLE_BYTES if suffix == ".parquet" else MAX_TEXT_BYTES
    if (entry.size or 0) > limit:
        raise _download_instead(
            run_id,
            key,
            f"is {format_size(entry.size or 0)}; show prints up to {format_size(limit)}",
        )
    data = client.tracking.load_bytes(client.scope, run_id, key)
    if len(data) > limit:  # grew since it was listed, or a store that lists no sizes
        raise _download_instead(run_id, key, f"is over {format_size(limit)}")
    if suffix == ".parquet":
        _show_table(data, key, rows)
    else:
        _show_text(data, run_id, key, suffix)


@artifacts_app.command("download")
def download_artifacts(
    ctx: typer.Context,
    run_id: RunArgument,
    path: Annotated[
        str, typer.Argument(help="A file or folder of the artifacts (default: all).")
    ] = "",
    dest: Annotated[
        Path, typer.Option("--dest", "-d", help="Local folder to download into.")
    ] = Path("."),
) -> None:
    """Download an artifact file or folder, or all of them, into a local folder.

    PATH 'eval' lands in DEST/eval; without PATH, every artifact lands in DEST.
    """
    client = client_of(ctx)
    key = _key(path, root=True)
    files = _walk(client, run_id, key)
    if not files and key:
        entry = _entry(client, run_id, key)  # NotFound when absent; a file downloads alone
        files = [] if entry.is_dir else [entry]
    if not files:
        hint(f"nothing to download: run {run_id} has no artifact files under {key or 'its root'}")
        return
    _make_folder(dest)
    # Files keep their paths below PATH's folder: 'eval/a.csv' of PATH 'eval' is DEST/eval/a.csv.
    _fetch(client, run_id, files, key.rpartition("/")[0], dest)
    total = sum(f.size or 0 for f in files)
    where = (dest / key.rpartition("/")[2]) if key else dest
    noun = "file" if len(files) == 1 else "files"
    say(f"downloaded {len(files)} {noun} ({format_size(total)}) to {where.resolve()}")


# -- listing -----------------------------------------------------------------------------------


def _key(path: str, *, root: bool = False) -> str:
    """``path`` as an artifact key: the same refusal of ``..`` and absolute paths in both
    modes, before anything is asked of the store."""
    return clean_key(path, allow_root=root)


def _entry(client: Client, run_id: str, key: str) -> ArtifactInfo:
    """The listing entry of ``key``.

    Raises:
        NotFound: naming the key, with a close name among its siblings.
    """
    folder, _, name = key.rpartition("/")
    siblings = client.list_artifacts(run_id, folder)
    for entry in siblings:
        if entry.path == key:
            return entry
    names = itertools.islice((e.path.rpartition("/")[2] for e in siblings), MAX_CANDIDATES)
    close, _ = closest(name, names)
    meant = "" if close is None else f"; did you mean {(f'{folder}/' * bool(folder)) + close!r}?"
    raise NotFound(f"run {run_id!r} has no artifact {key!r}{meant}", {"path": key})


def _walk(client: Client, run_id: str, key: str) -> list[ArtifactInfo]:
    """Every file below the folder ``key`` (one listing per folder), in path order."""
    files: list[ArtifactInfo] = []
    folders = [key]
    while folders:
        folder = folders.pop()
        for entry in client.list_artifacts(run_id, folder):
            # A server names the paths: each must be a clean key below the folder listed, so
            # none can lead a download out of --dest.
            path = clean_key(entry.path)
            if folder and not path.startswith(f"{folder}/"):
                raise InvalidInput(f"the listing of {folder!r} named {path!r}, outside it")
            if entry.is_dir:
                folders.append(path)
            else:
                files.append(ArtifactInfo(path, False, entry.size))
    return sorted(files, key=lambda f: f.path)


# -- show --------------------------------------------------------------------------------------


def _show_text(data: bytes, run_id: str, key: str, suffix: str) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        raise _download_instead(run_id, key, "is binary")
    out = console()
    if not out.is_terminal:  # piped: the file as it is, for the next program
        write_text(text)
        return
    from rich.syntax import Syntax  # pygments: loaded only to highlight

    # Syntax ends every line itself: a final newline would add a blank line.
    shown = printable(text.replace("\r\n", "\n").removesuffix("\n"))
    out.print(Syntax(shown, _LEXERS.get(suffix, "text"), word_wrap=True, theme="ansi_dark"))


def _show_table(data: bytes, key: str, rows: int) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(io.BytesIO(data))
        total = table.metadata.num_rows
        names = table.schema_arrow.names
        first = next(table.iter_batches(batch_size=rows), None)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"artifact {key!r} cannot be read as Parquet: {exc}") from exc
    shown_names = names[:MAX_TABLE_COLUMNS]
    grid = new_table(None, *(printable(name) for name in shown_names))
    columns = (
        [] if first is None else [first.column(i).to_pylist() for i in range(len(shown_names))]
    )
    for values in zip(*columns, strict=True):
        grid.add_row(*(_cell(value) for value in values))
    out = console()
    out.print(grid)
    shown = 0 if first is None else first.num_rows
    more = f", first {shown} shown" if shown < total else ""
    hidden = len(names) - len(shown_names)
    extra = f"; {hidden} more columns not shown" if hidden else ""
    say(f"{total} rows, {len(names)} columns{more}{extra}", style="dim")


def _cell(value: Any) -> str:
    return printable(format_value(value) if isinstance(value, float | None) else str(value))


# -- download ----------------------------------------------------------------------------------


def _fetch(client: Client, run_id: str, files: list[ArtifactInfo], base: str, dest: Path) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    out = console()
    bar = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    # A bar only where someone watches, and for more than one file.
    quiet = not out.is_terminal or len(files) == 1
    with Progress(*bar, console=out, transient=True, disable=quiet) as progress:
        task = progress.add_task("downloading", total=sum(f.size or 0 for f in files))
        for file in files:
            relative = PurePosixPath(file.path[len(base) + 1 :] if base else file.path)
            try:
                client.download_artifacts(run_id, file.path, dest / relative.parent)
            except OSError as exc:
                raise InvalidInput(
                    f"cannot write {file.path!r} under {str(dest)!r}: {exc.strerror}"
                ) from exc
            progress.advance(task, file.size or 0)


def _make_folder(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise InvalidInput(f"--dest {str(dest)!r} is a file, not a folder")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot make the folder --dest {str(dest)!r}: {exc.strerror}") from exc


# -- formats -----------------------------------------------------------------------------------


def format_size(size: int) -> str:
    """Bytes for people: ``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError  # unreachable: the last unit returns


def printable(text: str) -> str:
    """``text`` with the control characters a terminal would act on shown as ``\\xNN``."""
    return text.translate(_CONTROLS)


def _download_instead(run_id: str, key: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"artifact {key!r} {why}: download it with 'gnomon runs artifacts download {run_id} {key}'",
        {"path": key},
    )
