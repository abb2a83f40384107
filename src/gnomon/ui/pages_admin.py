"""Administration, read only: users, workspaces, members, tokens and the audit log for global
administrators; a workspace's members, the admin's own tokens and the workspace's audit log
for its admins. Everyone else gets a 403 page. Tokens show their prefix, never a secret."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from gnomon._types import now_ms
from gnomon.auth.entities import Role
from gnomon.auth.service import AuthService
from gnomon.errors import InvalidInput, NotFound, PermissionDenied
from gnomon.ui.common import Looker, PageToken
from gnomon.ui.render import PageRoute, page
from gnomon.ui.session import Viewer

router = APIRouter(route_class=PageRoute)

PER_PAGE = 50
WORKSPACE_NAMES = 1000  # workspaces named in the token and audit tables (others by id)
GLOBAL = ("users", "workspaces", "members", "tokens", "audit")
WORKSPACE_ADMIN = ("members", "tokens", "audit")

Short = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True, slots=True)
class Filters:
    """What narrows a section: a workspace (``of``), a token owner, audit fields."""

    of: str | None = None
    user: str | None = None
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    rows: Sequence[Any]
    next_page: str | None


def _auth(request: Request) -> AuthService:
    auth: AuthService | None = request.app.state.services.auth
    if auth is None:
        raise NotFound("this server keeps no users")
    return auth


def _sections(viewer: Viewer) -> tuple[str, ...]:
    """What the viewer may see here.

    Raises:
        PermissionDenied: the viewer administers neither the server nor this workspace.
    """
    if viewer.is_admin:
        return GLOBAL
    if viewer.role is Role.ADMIN:
        return WORKSPACE_ADMIN
    raise PermissionDenied(
        f"administration is for admins; {viewer.principal.name!r} is {viewer.role.value} "
        f"in workspace {viewer.workspace!r}"
    )


@router.get("/admin")
def admin(
    request: Request,
    viewer: Looker,
    section: Short = None,
    page_token: PageToken = None,
    of: Short = None,
    user: Short = None,
    actor: Short = None,
    action: Short = None,
    object_type: Short = None,
) -> HTMLResponse:
    """One section, 50 rows a page (``?section=``; the first one allowed by default)."""
    sections = _sections(viewer)
    chosen = section or sections[0]
    if chosen not in GLOBAL:
        raise InvalidInput(f"no section {chosen[:40]!r}: one of {', '.join(sections)}")
    if chosen not in sections:
        raise PermissionDenied(f"only global administrators see the {chosen} of this server")
    # A workspace admin sees the workspace the page is in and its own tokens; a global admin
    # any workspace (``of``) and anyone's tokens (``user``).
    workspace = (of or None) if viewer.is_admin else viewer.workspace
    owner = (user or None) if viewer.is_admin else None
    filters = Filters(workspace, owner, actor or None, action or None, object_type or None)
    auth = _auth(request)
    listing = _LISTINGS[chosen](auth, viewer, filters, page_token or None)
    names = _workspace_names(auth, viewer) if chosen in ("tokens", "audit") else {}
    return page(
        request,
        "admin.html",
        viewer,
        sections=sections,
        section=chosen,
        listing=listing,
        filters=filters,
        members_of=workspace or viewer.workspace,
        workspace_name=lambda id: names.get(id, id[:8]) if id else "",
        now=now_ms(),
    )


def _users(auth: AuthService, viewer: Viewer, filters: Filters, token: str | None) -> Listing:
    found = auth.list_users(PER_PAGE, token)
    return Listing(found.items, found.next_page_token)


def _workspaces(auth: AuthService, viewer: Viewer, filters: Filters, token: str | None) -> Listing:
    found = auth.list_workspaces(viewer.principal, PER_PAGE, token)
    return Listing(found.items, found.next_page_token)


def _members(auth: AuthService, viewer: Viewer, filters: Filters, token: str | None) -> Listing:
    workspace = filters.of or viewer.workspace
    found = auth.list_members(viewer.principal, workspace, PER_PAGE, token)
    return Listing(found.items, found.next_page_token)


def _tokens(auth: AuthService, viewer: Viewer, filters: Filters, token: str | None) -> Listing:
    found = auth.list_tokens(viewer.principal, filters.user, PER_PAGE, token)
    return Listing(found.items, found.next_page_token)


def _audit(auth: AuthService, viewer: Viewer, filters: Filters, token: str | None) -> Listing:
    found = auth.list_audit(
        viewer.principal,
        workspace=filters.of,
        actor=filters.actor,
        action=filters.action,
        object_type=filters.object_type,
        max_results=PER_PAGE,
        page_token=token,
    )
    return Listing(found.items, found.next_page_token)


_LISTINGS = {
    "users": _users,
    "workspaces": _workspaces,
    "members": _members,
    "tokens": _tokens,
    "audit": _audit,
}


def _workspace_names(auth: AuthService, viewer: Viewer) -> dict[str, str]:
    found = auth.list_workspaces(viewer.principal, WORKSPACE_NAMES)
    return {w.id: w.name for w in found.items}
