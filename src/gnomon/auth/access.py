"""WorkspaceAccess: workspaces, memberships, and what a principal may do in a workspace."""

from __future__ import annotations

from collections.abc import Callable

from gnomon import checks
from gnomon._types import Page, now_ms
from gnomon.auth import rules
from gnomon.auth.audit import AuditLog
from gnomon.auth.entities import AuditAction, Membership, Principal, Role, Workspace
from gnomon.auth.store import AuthStore
from gnomon.errors import InvalidInput, NotFound, PermissionDenied


class WorkspaceAccess:
    """Workspaces and their members. ``role_in`` is what routes call on every request.

    ``AuthService`` builds on this class; it stands alone where only access checks are
    needed.
    """

    def __init__(self, store: AuthStore, log: AuditLog, clock: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.log = log
        self.clock = clock

    def create_workspace(self, actor: Principal, name: str) -> Workspace:
        """Create a workspace whose first admin is the actor.

        Raises:
            InvalidInput: a bad name.
            AlreadyExists: the name is taken.
            PermissionDenied: the acting token is bound to a workspace, or read-only.
        """
        rules.check_new_name("workspace", name)
        ceiling = actor.token_role or Role.ADMIN
        if actor.token_workspace_id is not None or not ceiling.allows(Role.EDITOR):
            raise PermissionDenied(f"this token of {actor.name!r} cannot create workspaces")
        workspace = self.store.create_workspace(name, actor.user_id, self.clock())
        action = AuditAction.CREATE
        self.log.append(actor.name, action, "workspace", name, workspace_id=workspace.id)
        return workspace

    def get_workspace(self, name: str) -> Workspace:
        """Raises ``NotFound``. No access check: to act for a caller, use ``role_in``."""
        return self.store.get_workspace(rules.check_name("workspace", name))

    def list_workspaces(
        self, principal: Principal, max_results: int = 1000, page_token: str | None = None
    ) -> Page[Workspace]:
        """What the principal can reach, by name: every workspace for a global administrator,
        else those it is a member of; only the bound one for a bound token."""
        member = None if principal.is_admin else principal.user_id
        size = checks.max_results(max_results, checks.BROWSE_RESULTS_LIMIT)
        return self.store.list_workspaces(member, principal.token_workspace_id, size, page_token)

    def role_in(self, principal: Principal, workspace: str) -> tuple[Workspace, Role]:
        """The workspace and what the principal may do in it: its member role (``ADMIN`` for a
        global administrator), capped by its token's role ceiling.

        Raises:
            NotFound: the workspace does not exist, the principal is not a member, or its
                token is bound to another workspace, all with the same message, so that
                existence never leaks.
        """
        hidden = NotFound(f"workspace {checks.shown(workspace)} not found")
        try:
            name = rules.check_name("workspace", workspace)
            found, role = self.store.find_role(name, principal.user_id)
        except (NotFound, InvalidInput):
            raise hidden from None
        if principal.is_admin:
            role = Role.ADMIN
        bound = principal.token_workspace_id
        if role is None or (bound is not None and bound != found.id):
            raise hidden
        return found, role.cap(principal.token_role)

    def add_member(
        self, actor: Principal, workspace: str, user: str, role: Role | str
    ) -> Membership:
        """Give a user a role in a workspace; its admins only.

        Raises:
            NotFound: the workspace (as ``role_in``) or the user.
            PermissionDenied: the actor is not an admin there.
            AlreadyExists: the user is a member already (use ``set_member_role``).
            InvalidInput: a bad role.
        """
        new_role = rules.parse_role(role)
        found = self._administered(actor, workspace)
        member = self.store.add_member(found.id, self._user_id(user), new_role)
        self._membership_changed(actor, found.id, member.user_name, member.role, None)
        return member

    def set_member_role(
        self, actor: Principal, workspace: str, user: str, role: Role | str
    ) -> Membership:
        """Change a member's role; the workspace's admins only. Raises ``NotFound``,
        ``PermissionDenied``, ``InvalidInput``, or ``Conflict`` when demoting the last
        admin."""
        new_role = rules.parse_role(role)
        found = self._administered(actor, workspace)
        member, previous = self.store.update_member(found.id, self._user_id(user), new_role)
        self._membership_changed(actor, found.id, member.user_name, member.role, previous)
        return member

    def remove_member(self, actor: Principal, workspace: str, user: str) -> Membership:
        """Take a user out of a workspace; its admins only. Raises ``NotFound``,
        ``PermissionDenied``, or ``Conflict`` when removing the last admin."""
        found = self._administered(actor, workspace)
        member = self.store.remove_member(found.id, self._user_id(user))
        self._membership_changed(actor, found.id, member.user_name, None, member.role)
        return member

    def list_members(
        self,
        principal: Principal,
        workspace: str,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Membership]:
        """Members by user name, for anyone who reaches the workspace. Raises ``NotFound``
        as ``role_in``."""
        found, _ = self.role_in(principal, workspace)
        size = checks.max_results(max_results, checks.BROWSE_RESULTS_LIMIT)
        return self.store.list_members(found.id, size, page_token)

    def _administered(self, actor: Principal, workspace: str) -> Workspace:
        found, role = self.role_in(actor, workspace)
        if not role.allows(Role.ADMIN):
            raise PermissionDenied(
                f"only admins of workspace {workspace!r} change its members; {actor.name!r} "
                f"acts as {role}"
            )
        return found

    def _membership_changed(
        self,
        actor: Principal,
        workspace_id: str,
        user_name: str,
        role: Role | None,
        previous: Role | None,
    ) -> None:
        details = {"role": role, "previous_role": previous}
        action = AuditAction.PERMISSION_CHANGE
        self.log.append(
            actor.name, action, "member", user_name, workspace_id=workspace_id, details=details
        )

    def _user_id(self, name: str) -> str:
        return self.store.get_user(rules.check_name("user", name)).id
