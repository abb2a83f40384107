"""``gnomon notebook``: JupyterLab whose kernels use this gnomon — its store or server, its
workspace and, for a server, the saved token — set in their environment.

The token travels only in the environment JupyterLab and its kernels inherit: never on a
command line, where ``ps`` shows it, and never printed. ``gnomon notebook`` becomes
JupyterLab (``exec``), so the process a terminal's Ctrl+C or a supervisor's SIGTERM reaches
is JupyterLab itself.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gnomon.cli.output import display_uri, hint, say, state_of, warn
from gnomon.cli.ports import check_bindable
from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    from gnomon.config import Settings

LOOPBACK = "127.0.0.1"
NOT_INSTALLED = "JupyterLab is not installed: pip install 'gnomon[notebook]'"

# JupyterLab settings gnomon notebook chooses itself, refused among the extra arguments: the
# address and port have its own options, and a token on the command line is in plain sight.
_OWN = {
    "ip": "use gnomon notebook --ip",
    "port": "use gnomon notebook --port",
    "root_dir": "give the folder as gnomon notebook FOLDER",
    "notebook_dir": "give the folder as gnomon notebook FOLDER",
    "token": "set JUPYTER_TOKEN instead (ps shows command lines to every user)",
}


def notebook(
    ctx: typer.Context,
    folder: Annotated[
        str | None,
        typer.Argument(
            metavar="FOLDER",
            help="Folder JupyterLab opens (default: this one).",
            show_default=False,
        ),
    ] = None,
    jupyter_args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="-- JUPYTER_ARGS",
            help="JupyterLab's own options, after -- (-- --allow-root).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="Port to listen on (default: 8888, or the next free one).",
            show_default=False,
        ),
    ] = None,
    ip: Annotated[
        str,
        typer.Option(
            help="Address to listen on; any but loopback lets other machines reach it "
            "(JupyterLab's token still guards it)."
        ),
    ] = LOOPBACK,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Open no browser.")] = False,
) -> None:
    """Start JupyterLab with GNOMON_URI, GNOMON_WORKSPACE, GNOMON_HOME (and the token of a
    server you logged in to) set for its kernels: gnomon.start_run() in a notebook logs where
    the CLI does."""
    from gnomon.backends import is_server

    extra = list(jupyter_args or [])
    if folder is not None and folder.startswith("-"):  # `gnomon notebook -- --flag`: no folder
        extra.insert(0, folder)
        folder = None
    if importlib.util.find_spec("jupyterlab") is None:
        raise InvalidInput(NOT_INSTALLED)
    root = _folder(folder)
    _refuse_own_settings(extra)
    _check_address(ip, port)
    state = state_of(ctx)
    settings = state.settings
    env = kernel_environment(settings, os.environ)
    if not is_server(env["GNOMON_URI"]):
        # Made and upgraded now, and the workspace checked: not in every kernel's first call.
        state.client.scope  # noqa: B018
    _tell(settings, env, root)
    _become(jupyter_argv(root, ip, port, open_browser=not no_browser, extra=extra), env)


def kernel_environment(settings: Settings, inherited: Mapping[str, str]) -> dict[str, str]:
    """``inherited`` with ``GNOMON_HOME``, ``GNOMON_URI`` and ``GNOMON_WORKSPACE`` set as
    ``settings`` resolve them, and ``GNOMON_TOKEN`` for a server (``settings.token``, else
    the session ``gnomon login`` saved). Paths are made absolute: a kernel starts in its
    notebook's folder, not in this one."""
    from gnomon.backends import is_server
    from gnomon.client.credentials import token_for

    home = settings.home.expanduser().absolute()
    uri = _absolute_sqlite(settings.uri) if settings.uri else f"sqlite:///{home / 'gnomon.db'}"
    env = dict(inherited)
    env.update(GNOMON_HOME=str(home), GNOMON_URI=uri, GNOMON_WORKSPACE=settings.workspace)
    if settings.artifacts and "://" not in settings.artifacts:  # a local folder
        env["GNOMON_ARTIFACTS"] = str(Path(settings.artifacts).expanduser().absolute())
    if is_server(uri):
        token = settings.token or token_for(home, uri)
        if token:
            env["GNOMON_TOKEN"] = token
    return env


def jupyter_argv(
    root: Path, ip: str, port: int | None, *, open_browser: bool, extra: Sequence[str] = ()
) -> list[str]:
    """The command line that starts JupyterLab with this interpreter; it holds no secret."""
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}"]
    argv.append(f"--ServerApp.ip={ip}")
    if port is not None:  # a port asked for is that port, not the next free one
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    argv.append(f"--ServerApp.open_browser={open_browser}")
    return [*argv, *extra]


def _absolute_sqlite(uri: str) -> str:
    """``sqlite:///relative.db`` (relative to this folder) as an absolute path; any other
    URI as it is."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return uri
    path, mark, query = uri[len(prefix) :].partition("?")
    if not path or path == ":memory:" or Path(path).is_absolute():
        return uri
    return f"{prefix}{Path(path).absolute()}{mark}{query}"


def _folder(folder: str | None) -> Path:
    root = Path(folder or ".").expanduser().absolute()
    if not root.is_dir():
        raise InvalidInput(f"folder {folder!r} does not exist or is not a folder")
    return root


def _refuse_own_settings(extra: Sequence[str]) -> None:
    for arg in extra:
        if not arg.startswith("--"):
            continue
        # --ip=x, --ServerApp.ip=x, --NotebookApp.token=x, --IdentityProvider.token=x, ...
        trait = arg[2:].split("=", 1)[0].rsplit(".", 1)[-1].replace("-", "_").lower()
        if trait in _OWN:
            name = arg.split("=", 1)[0]
            raise InvalidInput(f"{name} is not passed on to JupyterLab: {_OWN[trait]}")


def _check_address(ip: str, port: int | None) -> None:
    from gnomon.server.loopback import is_loopback

    if port is not None:
        check_bindable(ip, port)  # one line now, not JupyterLab's traceback later
    if not is_loopback(ip):
        warn(
            f"JupyterLab listens on {ip}: anyone who reaches it with its token runs code as "
            "you, with your gnomon credentials"
        )


def _tell(settings: Settings, env: Mapping[str, str], root: Path) -> None:
    from gnomon.backends import is_server

    uri = env["GNOMON_URI"]
    say(f"JupyterLab in {root}: kernels use {display_uri(uri)}, workspace {settings.workspace!r}")
    if is_server(uri) and "GNOMON_TOKEN" in env:
        hint("their GNOMON_TOKEN is your saved session (or GNOMON_TOKEN) for that server")
    elif is_server(uri):
        warn(f"no token for {uri}: run gnomon login, or the server will refuse the kernels' calls")
    hint("JupyterLab prints its address with its own token below; Ctrl+C stops it")


def _become(argv: list[str], env: dict[str, str]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(argv[0], argv, env)
    # Windows' exec spawns a child and returns at once: wait for JupyterLab instead.
    raise typer.Exit(subprocess.call(argv, env=env))
