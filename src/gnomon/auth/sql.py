"""SqlAuthStore: users, tokens, workspaces and memberships over SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select, and_, select, update

from gnomon._types import Page, new_id
from gnomon.auth.entities import ApiToken, Membership, NewToken, Role, User, Workspace
from gnomon.auth.tables import api_tokens, memberships, users, workspaces
from gnomon.errors import AlreadyExists, Conflict, NotFound
from gnomon.store.database import Database
from gnomon.store.paging import fetch_page

T = TypeVar("T")


class SqlAuthStore:
    """Identity in the metadata database; every method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- users -------------------------------------------------------------------------------

    def create_user(self, name: str, password_hash: str, is_admin: bool, created_time: int) -> User:
        values = {
            "id": new_id(),
            "name": name,
            "password_hash": password_hash,
            "is_admin": is_admin,
            "disabled": False,
            "created_time": created_time,
        }
        with self.db.write() as conn:
            if conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None:
                raise AlreadyExists(f"user {name!r} already exists")
            conn.execute(users.insert().values(**values))
        # Everything the new row holds is known here: no need to read it back.
        return _to_user(SimpleNamespace(**values))

    def get_user(self, name: str) -> User:
        with self.db.read() as conn:
            return _to_user(_user_row(conn, users.c.name == name, name))

    def get_credentials(self, name: str) -> tuple[User, str]:
        with self.db.read() as conn:
            row = _user_row(conn, users.c.name == name, name)
        return _to_user(row), row.password_hash

    def list_users(self, max_results: int, page_token: str | None = None) -> Page[User]:
        query = select(users).order_by(users.c.name)
        with self.db.read() as conn:
            return _page(conn, query, max_results, page_token, _to_user)

    def update_user(
        self, name: str, *, disabled: bool | None = None, password_hash: str | None = None
    ) -> User:
        values: dict[str, Any] = {}
        if disabled is not None:
            values["disabled"] = disabled
        if password_hash is not None:
            values["password_hash"] = password_hash
        with self.db.write() as conn:
            row = _user_row(conn, users.c.name == name, name)
            if disabled and row.is_admin and not row.disabled:
                _check_other_admin_enabled(conn, row.id, name)
            if values:
                conn.execute(update(users).where(users.c.id == row.id).values(**values))
        return _to_user(SimpleNamespace(**{**row._mapping, **values}))

    # -- tokens ------------------------------------------------------------------------------

    def create_token(self, token: NewToken) -> ApiToken:
        values = {
            "id": new_id(),
            "user_id": token.user_id,
            "name": token.name,
            "token_hash": token.token_hash,
            "prefix": token.prefix,
            "workspace_id": token.workspace_id,
            "role": None if token.role is None else token.role.value,
            "expires_time": token.expires_time,
            "revoked_time": None,
            "created_time": token.created_time,
            "last_used_time": None,
        }
        with self.db.write() as conn:
            # Check first so the error names what is missing (a foreign key error would not).
            _user_row(conn, users.c.id == token.user_id, token.user_id)
            if token.workspace_id is not None:
                _workspace_row(conn, workspaces.c.id == token.workspace_id, token.workspace_id)
            conn.execute(api_tokens.insert().values(**values))
        return _to_token(SimpleNamespace(**values))

    def find_token(self, token_hash: str) -> tuple[ApiToken, User]:
        user_columns = [c.label(f"u_{c.name}") for c in users.c if c.name != "password_hash"]
        query = (
            select(api_tokens, *user_columns)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == token_hash)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound("API token not found")
        user = User(
            id=row.u_id,
            name=row.u_name,
            is_admin=bool(row.u_is_admin),
            disabled=bool(row.u_disabled),
            created_time=row.u_created_time,
        )
        return _to_token(row), user

    def list_tokens(
        self, user_id: str, max_results: int, page_token: str | None = None
    ) -> Page[ApiToken]:
        query = (
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.created_time.desc(), api_tokens.c.id)
        )
        with self.db.read() as conn:
            return _page(conn, query, max_results, page_token, _to_token)

    def revoke_token(self, token_id: str, revoked_time: int, user_id: str | None) -> ApiToken:
        where = api_tokens.c.id == token_id
        if user_id is not None:
            where = and_(where, api_tokens.c.user_id == user_id)
        with self.db.write() as conn:
            conn.execute(
                update(api_tokens)
                .where(where, api_tokens.c.revoked_time.is_(None))
                .values(revoked_time=revoked_time)
            )
            row = conn.execute(select(api_tokens).where(where)).first()
        if row is None:
            raise NotFound(f"API token {token_id!r} not found")
        return _to_token(row)

    def touch_token(self, token_id: str, used_time: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id)
                .values(last_used_time=used_time)
            )

    # -- workspaces --------------------------------------------------------------------------

    def create_workspace(self, name: str, creator_id: str, created_time: int) -> Workspace:
        values = {"id": new_id(), "name": name, "created_time": created_time}
        with self.db.write() as conn:
            _user_row(conn, users.c.id == creator_id, creator_id)
            taken = select(workspaces.c.id).where(workspaces.c.name == name)
            if conn.execute(taken).first() is not None:
                raise AlreadyExists(f"workspace {name!r} already exists")
            conn.execute(workspaces.insert().values(**values))
            conn.execute(
                memberships.insert().values(
                    workspace_id=values["id"], user_id=creator_id, role=Role.ADMIN.value
                )
            )
        return _to_workspace(SimpleNamespace(**values))

    def get_workspace(self, name: str) -> Workspace:
        with self.db.read() as conn:
            return _to_workspace(_workspace_row(conn, workspaces.c.name == name, name))

    def list_workspaces(
        self,
        member_id: str | None,
        workspace_id: str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Workspace]:
        query = select(workspaces).order_by(workspaces.c.name)
        if member_id is not None:
            query = query.join(
                memberships,
                and_(
                    memberships.c.workspace_id == workspaces.c.id,
                    memberships.c.user_id == member_id,
                ),
            )
        if workspace_id is not None:
            query = query.where(workspaces.c.id == workspace_id)
        with self.db.read() as conn:
            return _page(conn, query, max_results, page_token, _to_workspace)

    def find_role(self, workspace_name: str, user_id: str) -> tuple[Workspace, Role | None]:
        query = (
            select(workspaces, memberships.c.role)
            .outerjoin(
                memberships,
                and_(
                    memberships.c.workspace_id == workspaces.c.id,
                    memberships.c.user_id == user_id,
                ),
            )
            .where(workspaces.c.name == workspace_name)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"workspace {workspace_name!r} not found")
        return _to_workspace(row), None if row.role is None else Role(row.role)

    def add_member(self, workspace_id: str, user_id: str, role: Role) -> Membership:
        with self.db.write() as conn:
            workspace = _workspace_row(conn, workspaces.c.id == workspace_id, workspace_id)
            user = _user_row(conn, users.c.id == user_id, user_id)
            if _member_role(conn, workspace_id, user_id) is not None:
                raise AlreadyExists(
                    f"user {user.name!r} is already a member of workspace {workspace.name!r}"
                )
            conn.execute(
                memberships.insert().values(
                    workspace_id=workspace_id, user_id=user_id, role=role.value
                )
            )
        return Membership(workspace_id, user_id, user.name, role)

    def update_member(self, workspace_id: str, user_id: str, role: Role) -> tuple[Membership, Role]:
        with self.db.write() as conn:
            current, user_name = self._member(conn, workspace_id, user_id)
            if current is Role.ADMIN and role is not Role.ADMIN:
                _check_other_admin(conn, workspace_id, user_id, "demote")
            conn.execute(
                update(memberships)
                .where(memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id)
                .values(role=role.value)
            )
        return Membership(workspace_id, user_id, user_name, role), current

    def remove_member(self, workspace_id: str, user_id: str) -> Membership:
        with self.db.write() as conn:
            current, user_name = self._member(conn, workspace_id, user_id)
            if current is Role.ADMIN:
                _check_other_admin(conn, workspace_id, user_id, "remove")
            conn.execute(
                memberships.delete().where(
                    memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id
                )
            )
        return Membership(workspace_id, user_id, user_name, current)

    def list_members(
        self, workspace_id: str, max_results: int, page_token: str | None = None
    ) -> Page[Membership]:
        query = (
            select(memberships, users.c.name.label("user_name"))
            .join(users, users.c.id == memberships.c.user_id)
            .where(memberships.c.workspace_id == workspace_id)
            .order_by(users.c.name)
        )
        with self.db.read() as conn:
            return _page(conn, query, max_results, page_token, _to_membership)

    # -- helpers -----------------------------------------------------------------------------

    def _member(self, conn: Connection, workspace_id: str, user_id: str) -> tuple[Role, str]:
        workspace = _workspace_row(conn, workspaces.c.id == workspace_id, workspace_id)
        user = _user_row(conn, users.c.id == user_id, user_id)
        role = _member_role(conn, workspace_id, user_id)
        if role is None:
            raise NotFound(f"user {user.name!r} is not a member of workspace {workspace.name!r}")
        return role, user.name


def _page(
    conn: Connection,
    query: Select[Any],
    max_results: int,
    page_token: str | None,
    convert: Callable[[Any], T],
) -> Page[T]:
    rows, token = fetch_page(conn, query, max_results, page_token)
    return Page([convert(row) for row in rows], token)


def _user_row(conn: Connection, where: Any, label: str) -> Row[Any]:
    row = conn.execute(select(users).where(where)).first()
    if row is None:
        raise NotFound(f"user {label!r} not found")
    return row


def _workspace_row(conn: Connection, where: Any, label: str) -> Row[Any]:
    row = conn.execute(select(workspaces).where(where)).first()
    if row is None:
        raise NotFound(f"workspace {label!r} not found")
    return row


def _member_role(conn: Connection, workspace_id: str, user_id: str) -> Role | None:
    role = conn.execute(
        select(memberships.c.role).where(
            memberships.c.workspace_id == workspace_id, memberships.c.user_id == user_id
        )
    ).scalar()
    return None if role is None else Role(role)


def _check_other_admin(conn: Connection, workspace_id: str, user_id: str, verb: str) -> None:
    # FOR UPDATE (PostgreSQL; SQLite's write lock already serialises) makes two admins who
    # demote each other at once queue, so the second sees the first's change.
    admins = conn.execute(
        select(memberships.c.user_id)
        .where(memberships.c.workspace_id == workspace_id, memberships.c.role == Role.ADMIN.value)
        .with_for_update()
    ).scalars()
    if not set(admins) - {user_id}:
        name = conn.execute(
            select(workspaces.c.name).where(workspaces.c.id == workspace_id)
        ).scalar_one()
        raise Conflict(
            f"cannot {verb} the last admin of workspace {name!r}: make another member admin first"
        )


def _check_other_admin_enabled(conn: Connection, user_id: str, name: str) -> None:
    admins = conn.execute(
        select(users.c.id)
        .where(users.c.is_admin.is_(True), users.c.disabled.is_(False))
        .with_for_update()
    ).scalars()
    if not set(admins) - {user_id}:
        raise Conflict(f"cannot disable {name!r}: it is the last enabled global administrator")


def _to_user(row: Any) -> User:
    return User(
        id=row.id,
        name=row.name,
        is_admin=bool(row.is_admin),
        disabled=bool(row.disabled),
        created_time=row.created_time,
    )


def _to_token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.prefix,
        created_time=row.created_time,
        workspace_id=row.workspace_id,
        role=None if row.role is None else Role(row.role),
        expires_time=row.expires_time,
        revoked_time=row.revoked_time,
        last_used_time=row.last_used_time,
    )


def _to_workspace(row: Any) -> Workspace:
    return Workspace(id=row.id, name=row.name, created_time=row.created_time)


def _to_membership(row: Any) -> Membership:
    return Membership(row.workspace_id, row.user_id, row.user_name, Role(row.role))
