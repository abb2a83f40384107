"""``gnomon runs artifacts ...``: list, show and download a run's artifacts, embedded or
through a server."""

from __future__ import annotations

import itertools
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated

import typer

from gnomon.artifacts.keys import clean_key
from gnomon.artifacts.store import ArtifactInfo
from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    client_of,
    console,
    format_size,
    hint,
    new_table,
    print_json,
    printable,
    say,
    write_text,
)
from gnomon.errors import InvalidInput, NotFound
from gnomon.suggestions import MAX_CANDIDATES, closest
from gnomon.tracking.downloads import Placement, check_not_repository, place_all, plan

if TYPE_CHECKING:
    from gnomon.sdk import Client

artifacts_app = typer.Typer(help="List, show and download a run's artifacts.")

# `show` reads the whole file before printing any of it: past these sizes, download it.
MAX_TEXT_BYTES = 1024 * 1024
MAX_TABLE_BYTES = 32 * 1024 * 1024

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
        _show_table(data, run_id, key, rows)
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
        Path | None,
        typer.Option("--dest", "-d", help="Local folder to download into (default: ./RUN_ID)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace files that exist already.")
    ] = False,
) -> None:
    """Download an artifact file or folder, or all of them, into a local folder.

    PATH 'eval' lands in DEST/eval; without PATH, every artifact lands in DEST. Existing files
    are kept unless --overwrite, and nothing is written unless every file can be; paths under
    a .git or .hg folder are refused, as their files can make git or hg run commands.
    """
    client = client_of(ctx)
    key = _key(path, root=True)
    check_not_repository(key)
    folder = dest if dest is not None else _run_folder(run_id)
    files = _walk(client, run_id, key)
    if not files and key:
        entry = _entry(client, run_id, key)  # NotFound when absent; a file downloads alone
        files = [] if entry.is_dir else [entry]
    if not files:
        hint(f"nothing to download: run {run_id} has no artifact files under {key or 'its root'}")
        return
    # Files keep their paths below PATH's folder: 'eval/a.csv' of PATH 'eval' is DEST/eval/a.csv.
    placements = plan(files, key.rpartition("/")[0], folder, overwrite=overwrite)
    _make_folder(folder)
    _fetch(client, run_id, placements, folder)
    total = sum(f.size or 0 for f in files)
    where = (folder / key.rpartition("/")[2]) if key else folder
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


def _show_table(data: bytes, run_id: str, key: str, rows: int) -> None:
    import pyarrow as pa

    from gnomon.tracking.cli_parquet import TooLarge, first_rows

    try:
        table = first_rows(data, rows)
    except TooLarge as exc:
        raise _download_instead(run_id, key, str(exc)) from exc
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"artifact {key!r} cannot be read as Parquet: {exc}") from exc
    grid = new_table(None, *(printable(name) for name in table.header))
    for cells in table.rows:
        grid.add_row(*(printable(cell) for cell in cells))
    console().print(grid)
    shown = len(table.rows)
    more = f", first {shown} shown" if shown < table.total_rows else ""
    hidden = len(table.names) - len(table.header)
    extra = f"; {hidden} more columns not shown" if hidden else ""
    say(f"{table.total_rows} rows, {len(table.names)} columns{more}{extra}", style="dim")


# -- download ----------------------------------------------------------------------------------


def _fetch(client: Client, run_id: str, placements: list[Placement], dest: Path) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    out = console()
    bar = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    # A bar only where someone watches, and for more than one file.
    quiet = not out.is_terminal or len(placements) == 1
    with Progress(*bar, console=out, transient=True, disable=quiet) as progress:
        task = progress.add_task("downloading", total=sum(p.artifact.size or 0 for p in placements))

        def download(key: str, folder: Path) -> Path:
            return client.download_artifacts(run_id, key, folder)

        place_all(download, placements, dest, lambda f: progress.advance(task, f.size or 0))


def _run_folder(run_id: str) -> Path:
    """``./RUN_ID``, the folder a download goes to by default."""
    if run_id in ("", ".", "..") or any(c in run_id for c in "/\\:\0"):
        raise InvalidInput(f"run id {run_id!r} cannot name a folder: choose one with --dest")
    check_not_repository(run_id)
    return Path(run_id)


def _make_folder(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise InvalidInput(f"--dest {str(dest)!r} is a file, not a folder")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot make the folder --dest {str(dest)!r}: {exc.strerror}") from exc


def _download_instead(run_id: str, key: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"artifact {key!r} {why}: download it with 'gnomon runs artifacts download {run_id} {key}'",
        {"path": key},
    )
