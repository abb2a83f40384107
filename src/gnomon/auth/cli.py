"""``gnomon login``, ``logout``, ``whoami``, ``users``, ``workspaces``, ``tokens`` and ``audit``.

Users and tokens live on a server, so these commands always talk to ``GNOMON_URI`` (an http(s)
URL) with the token saved by ``gnomon login`` or ``GNOMON_TOKEN``. Workspace-scoped commands
(members, audit) act in the global ``--workspace`` / ``GNOMON_WORKSPACE``, like every other
command. Passwords are prompted for (hidden) or read from stdin, never taken as options, which
would leave them in shell history; token secrets are printed once, by ``tokens create``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from gnomon import checks
from gnomon._types import now_ms
from gnomon.auth.entities import ApiToken, AuditEvent, Role
from gnomon.cli.output import (
    MISSING,
    OutputFormat,
    OutputOption,
    console,
    every_page,
    format_time,
    hint,
    new_table,
    print_json,
    say,
    state_of,
    warn,
)
from gnomon.errors import GnomonError, InvalidInput, Unauthenticated

if TYPE_CHECKING:
    from gnomon._types import Page
    from gnomon.auth.api import AuthApi
    from gnomon.config import Settings

T = TypeVar("T")

users_app = typer.Typer(help="Create, list, disable and enable users (global administrators).")
workspaces_app = typer.Typer(help="Create and list workspaces, and manage their members.")
members_app = typer.Typer(
    help="Members of the workspace chosen by the global --workspace option or GNOMON_WORKSPACE "
    "(default 'default'), e.g. 'gnomon --workspace team-a workspaces members add bob editor'."
)
tokens_app = typer.Typer(help="Create, list and revoke your API tokens.")
workspaces_app.add_typer(members_app, name="members")

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from stdin (scripts) instead of a prompt."
    ),
]
NOT_A_SERVER = "identity commands talk to a gnomon server: set GNOMON_URI=http(s)://host:port"


def _client(ctx: typer.Context) -> AbstractContextManager[AuthApi]:
    return _connect(state_of(ctx).settings)


@contextmanager
def _connect(settings: Settings) -> Iterator[AuthApi]:
    """The auth API of the server at ``GNOMON_URI``, as every remote client gets it: from the
    services opened for ``settings``, closed after use."""
    from gnomon.auth.api import AuthApi
    from gnomon.backends import open_services

    _server_url(settings)
    services = open_services(settings)
    try:
        yield services.get(AuthApi)
    finally:
        assert services.transport is not None  # a server: _server_url said so
        services.transport.close()


def _server_url(settings: Settings) -> str:
    """``GNOMON_URI``, checked before anything opens: embedded services would create a
    database only to find no identity API in it."""
    from gnomon.backends import is_server

    uri = settings.uri or ""
    if not is_server(uri):
        raise InvalidInput(NOT_A_SERVER)
    return uri.rstrip("/")


def _password(from_stdin: bool, *, confirm: bool) -> str:
    if from_stdin:
        password = sys.stdin.read().rstrip("\r\n")
        if not password:
            raise InvalidInput("--password-stdin: nothing was read from standard input")
        return password
    entered: str = typer.prompt("password", hide_input=True, confirmation_prompt=confirm)
    return entered


def _workspace_names(client: AuthApi) -> dict[str, str]:
    """Workspace ids to names, for those the caller can see (tokens and events carry ids)."""
    found = every_page(lambda token: client.list_workspaces(page_token=token))
    return {w.id: w.name for w in found}


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


# -- sessions ----------------------------------------------------------------------------------


def login(
    ctx: typer.Context,
    username: Annotated[
        str | None, typer.Option("--username", "-u", help="Prompted for when not given.")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Log in to the server at GNOMON_URI and save the session token.

    The token (valid 30 days) goes to GNOMON_HOME/credentials, readable by you only.
    """
    from gnomon.client.credentials import save_token

    settings = state_of(ctx).settings
    url = _server_url(settings)  # before any prompt: there is nothing to log in to otherwise
    if password_stdin and not username:
        raise InvalidInput("--password-stdin needs --username (stdin holds the password)")
    name: str = username or typer.prompt("user name")
    password = _password(password_stdin, confirm=False)
    with _client(ctx) as client:  # any token it carries is ignored: logging in is public
        issued = client.login(name, password)
    path = save_token(settings.home, url, issued.token)
    say(f"logged in to {url} as {name}")
    hint(f"session saved in {path}, valid until {format_time(issued.expires_time)}")
    if settings.token:
        warn("GNOMON_TOKEN is set, and is used instead of this session")


def logout(ctx: typer.Context) -> None:
    """Revoke the saved session token on the server and forget it."""
    from gnomon.client.credentials import forget_token, token_for

    settings = state_of(ctx).settings
    url = _server_url(settings)
    token = token_for(settings.home, url)
    if token is None:
        say(f"not logged in to {url}")
        return
    problem = _revoke_session(settings, token)
    forget_token(settings.home, url)
    say(f"logged out of {url}")
    if problem:
        warn(f"the server did not revoke the session: {problem}")


def _revoke_session(settings: Settings, token: str) -> str | None:
    """Revoke the session ``token`` stands for; what went wrong, or ``None``.

    The saved file holds only the secret, and the API names tokens by id: the session is the
    caller's one active token whose listed prefix matches the secret's.
    """
    from gnomon.auth.tokens import prefix

    try:
        with _connect(settings.model_copy(update={"token": token})) as client:
            tokens = every_page(lambda page: client.list_tokens(page_token=page))
            mine = [t for t in tokens if t.prefix == prefix(token) and t.revoked_time is None]
            if len(mine) != 1:
                return f"{len(mine)} active tokens match the saved one's prefix"
            client.revoke_token(mine[0].id)
    except Unauthenticated:
        return None  # expired or revoked already: nothing left to revoke
    except GnomonError as exc:
        return exc.message
    return None


def whoami(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """Who the saved session or GNOMON_TOKEN stands for, and what limits its token."""
    with _client(ctx) as client:
        me = client.whoami()
        bound = me.token_workspace_id
        workspace = _workspace_names(client).get(bound, bound) if bound else None
    if output is OutputFormat.JSON:
        print_json({**me.model_dump(mode="json"), "token_workspace": workspace})
        return
    say(me.name + (" (global administrator)" if me.is_admin else ""))
    if workspace or me.token_role:
        limits = [f"workspace {workspace!r}"] if workspace else []
        limits += [f"role {me.token_role.value}"] if me.token_role else []
        say(f"token limited to {' and '.join(limits)}")


# -- users -------------------------------------------------------------------------------------


@users_app.command("create")
def create_user(
    ctx: typer.Context,
    name: str,
    admin: Annotated[bool, typer.Option("--admin", help="Make a global administrator.")] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create user NAME; the password is prompted for twice (hidden) unless read from stdin."""
    password = _password(password_stdin, confirm=True)
    with _client(ctx) as client:
        user = client.create_user(name, password, admin)
    say(f"created {'administrator' if user.is_admin else 'user'} {user.name!r}")


@users_app.command("list")
def list_users(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """List every user."""
    with _client(ctx) as client:
        users = every_page(lambda token: client.list_users(page_token=token))
    if output is OutputFormat.JSON:
        print_json(users)
        return
    table = new_table(None, "name", "admin", "disabled", "created")
    for user in users:
        cells = (_yes(user.is_admin), _yes(user.disabled), format_time(user.created_time))
        table.add_row(user.name, *cells)
    console().print(table)


@users_app.command("disable")
def disable_user(ctx: typer.Context, name: str) -> None:
    """Disable user NAME: it cannot log in, and its tokens stop working at once."""
    with _client(ctx) as client:
        client.disable_user(name)
    say(f"disabled user {name!r}")


@users_app.command("enable")
def enable_user(ctx: typer.Context, name: str) -> None:
    """Enable user NAME again."""
    with _client(ctx) as client:
        client.enable_user(name)
    say(f"enabled user {name!r}")


@users_app.command("set-password")
def set_password(ctx: typer.Context, name: str, password_stdin: PasswordStdin = False) -> None:
    """Set the password of NAME (your own, or anyone's as a global administrator)."""
    password = _password(password_stdin, confirm=True)
    with _client(ctx) as client:
        client.set_password(name, password)
    say(f"changed the password of user {name!r}")


# -- workspaces and members --------------------------------------------------------------------


@workspaces_app.command("create")
def create_workspace(ctx: typer.Context, name: str) -> None:
    """Create workspace NAME, with you as its first admin."""
    with _client(ctx) as client:
        client.create_workspace(name)
    say(f"created workspace {name!r}")


@workspaces_app.command("list")
def list_workspaces(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """List the workspaces you can reach (all of them, for a global administrator)."""
    with _client(ctx) as client:
        found = every_page(lambda token: client.list_workspaces(page_token=token))
    if output is OutputFormat.JSON:
        print_json(found)
        return
    table = new_table(None, "name", "id", "created")
    for workspace in found:
        table.add_row(workspace.name, workspace.id, format_time(workspace.created_time))
    console().print(table)


@members_app.command("list")
def list_members(ctx: typer.Context, output: OutputOption = OutputFormat.TABLE) -> None:
    """List the workspace's members and their roles."""
    workspace = state_of(ctx).settings.workspace
    with _client(ctx) as client:
        members = every_page(lambda token: client.list_members(workspace, page_token=token))
    if output is OutputFormat.JSON:
        print_json(members)
        return
    table = new_table(f"Members of {workspace!r}", "user", "role")
    for member in members:
        table.add_row(member.user_name, member.role.value)
    console().print(table)


RoleArgument = Annotated[Role, typer.Argument(help="viewer, editor or admin.")]


@members_app.command("add")
def add_member(ctx: typer.Context, user: str, role: RoleArgument) -> None:
    """Add USER to the workspace with ROLE (workspace admins)."""
    workspace = state_of(ctx).settings.workspace
    with _client(ctx) as client:
        member = client.add_member(workspace, user, role)
    say(f"added {member.user_name!r} to workspace {workspace!r} as {member.role.value}")


@members_app.command("set-role")
def set_member_role(ctx: typer.Context, user: str, role: RoleArgument) -> None:
    """Change USER's role in the workspace to ROLE (workspace admins)."""
    workspace = state_of(ctx).settings.workspace
    with _client(ctx) as client:
        member = client.set_member_role(workspace, user, role)
    say(f"{member.user_name!r} is now {member.role.value} in workspace {workspace!r}")


@members_app.command("remove")
def remove_member(ctx: typer.Context, user: str) -> None:
    """Remove USER from the workspace (workspace admins)."""
    workspace = state_of(ctx).settings.workspace
    with _client(ctx) as client:
        client.remove_member(workspace, user)
    say(f"removed {user!r} from workspace {workspace!r}")


# -- tokens ------------------------------------------------------------------------------------


@tokens_app.command("create")
def create_token(
    ctx: typer.Context,
    name: str,
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", help="Bind the token to this one workspace."),
    ] = None,
    role: Annotated[
        Role | None, typer.Option("--role", help="The most the token may do, anywhere.")
    ] = None,
    expires_in_days: Annotated[
        int | None,
        typer.Option("--expires-in-days", min=1, max=3650, help="Default: never expires."),
    ] = None,
) -> None:
    """Create an API token for yourself and print its secret, this once."""
    # A --workspace before 'create' (global) chooses where commands act: never what is meant.
    if workspace is None and state_of(ctx).workspace is not None:
        raise InvalidInput(
            "a --workspace before 'create' does not bind the token: put it after 'create' "
            "(gnomon tokens create NAME --workspace WORKSPACE)"
        )
    with _client(ctx) as client:
        issued = client.create_token(name, workspace, role, expires_in_days)
    say(f"created token {issued.name!r} ({issued.id}), expires {format_time(issued.expires_time)}")
    say(issued.token)
    warn("copy the secret now: it cannot be shown again")


@tokens_app.command("list")
def list_tokens(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option("--user", help="Another user's (global administrators).")
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List your tokens, revoked and expired ones included; never their secrets."""
    with _client(ctx) as client:
        found = every_page(lambda token: client.list_tokens(user, page_token=token))
        names = _workspace_names(client) if any(t.workspace_id for t in found) else {}
    if output is OutputFormat.JSON:
        print_json(found)
        return
    console().print(_tokens_table(found, names))


def _tokens_table(tokens: list[ApiToken], workspaces: dict[str, str]) -> Table:
    # Narrow terminals fold the text columns rather than cut them: nothing shown is lost.
    table = new_table(None)
    table.add_column("name", overflow="fold")
    table.add_column("prefix", no_wrap=True)
    table.add_column("workspace", overflow="fold")
    table.add_column("role", min_width=6)
    table.add_column("expires", overflow="fold")
    table.add_column("state", min_width=7)
    table.add_column("last used", overflow="fold")
    table.add_column("id", no_wrap=True)  # whole, to paste into `tokens revoke`
    now = now_ms()
    for token in tokens:
        bound = token.workspace_id
        table.add_row(
            token.name,
            f"{token.prefix}…",
            workspaces.get(bound, bound) if bound else "any",
            token.role.value if token.role else "any",
            format_time(token.expires_time, compact=True) if token.expires_time else "never",
            _state(token, now),
            format_time(token.last_used_time, compact=True),
            token.id,
        )
    return table


def _state(token: ApiToken, now: int) -> str:
    if token.revoked_time is not None:
        return "revoked"
    return "active" if token.is_active(now) else "expired"


@tokens_app.command("revoke")
def revoke_token(ctx: typer.Context, token_id: str) -> None:
    """Revoke a token by id (see 'gnomon tokens list'); it stops working at once."""
    with _client(ctx) as client:
        token = client.revoke_token(token_id)
    say(f"revoked token {token.name!r} ({token.id})")


# -- audit -------------------------------------------------------------------------------------

TimeOption = Annotated[
    str | None, typer.Option(help="ISO time (local unless it has an offset) or epoch ms.")
]


def audit(
    ctx: typer.Context,
    everywhere: Annotated[
        bool, typer.Option("--everywhere", help="Every workspace (global administrators).")
    ] = False,
    actor: Annotated[str | None, typer.Option(help="Only this user's events.")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. create, login_failed.")] = None,
    object_type: Annotated[str | None, typer.Option(help="e.g. user, token, run.")] = None,
    since: TimeOption = None,
    until: TimeOption = None,
    max_results: Annotated[
        int, typer.Option("--max", "-n", min=1, help="At most this many.")
    ] = 100,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The audit log of the workspace (global --workspace), newest first."""
    start, end = _parse_time("--since", since), _parse_time("--until", until)
    workspace = None if everywhere else state_of(ctx).settings.workspace
    with _client(ctx) as client:
        fetch = partial(
            client.list_audit,
            workspace,
            everywhere=everywhere,
            actor=actor,
            action=action,
            object_type=object_type,
            since=start,
            until=end,
        )
        events = _first(max_results, lambda size, page: fetch(max_results=size, page_token=page))
        names = _workspace_names(client) if everywhere else None
    if output is OutputFormat.JSON:
        print_json(events)
        return
    console().print(_audit_table(events, names))


def _first(limit: int, fetch: Callable[[int, str | None], Page[T]]) -> list[T]:
    found: list[T] = []
    token: str | None = None
    while len(found) < limit:
        page = fetch(min(limit - len(found), checks.BROWSE_RESULTS_LIMIT), token)
        found.extend(page.items)
        token = page.next_page_token
        if token is None:
            break
    return found


def _parse_time(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    if text.isascii() and text.isdigit():  # not "²", which int() refuses
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is neither an ISO time (2024-05-01T12:00) nor epoch milliseconds"
        ) from None
    return int(moment.astimezone().timestamp() * 1000)  # a naive time is local time


def _audit_table(events: list[AuditEvent], workspaces: dict[str, str] | None) -> Table:
    table = new_table(None)
    table.add_column("time", no_wrap=True)
    for column in ("actor", "action", "object", *(["workspace"] if workspaces else [])):
        table.add_column(column, overflow="fold")
    table.add_column("details", overflow="fold", ratio=1)
    for event in events:
        where = event.workspace_id
        shown = [] if workspaces is None else [workspaces.get(where, where) if where else MISSING]
        details = [
            f"{k}={_detail(k, v)}" for k, v in sorted(event.details.items()) if v is not None
        ]
        details += [f"from {event.address}"] if event.address else []
        table.add_row(
            format_time(event.time, compact=True),
            event.actor,
            event.action,
            f"{event.object_type} {event.object_id}".strip(),
            *shown,
            ", ".join(details),
        )
    return table


def _detail(key: str, value: object) -> str:
    if key.endswith("_time") and isinstance(value, int):
        return format_time(value, compact=True)
    return str(value)
