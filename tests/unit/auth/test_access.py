"""Workspaces, memberships and ``role_in``, through the auth service on SQLite."""

from __future__ import annotations

import pytest

from gnomon.auth.entities import Principal, Role
from gnomon.auth.service import AuthService
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from tests.unit.auth.conftest import MakeUser


@pytest.fixture
def ann(make_user: MakeUser) -> Principal:
    return make_user("ann")


@pytest.fixture
def bob(make_user: MakeUser) -> Principal:
    return make_user("bob")


def hidden(name: str) -> pytest.RaisesExc[NotFound]:
    """What an outsider gets for a workspace, whether it exists or not."""
    return pytest.raises(NotFound, match=f"^workspace '{name}' not found$")


def changes(auth: AuthService, root: Principal) -> list[tuple[str, str, str, object]]:
    """Membership changes, oldest first: (actor, member, new role, previous role)."""
    events = auth.list_audit(root, action="permission_change")
    return [
        (e.actor, e.object_id, e.details["role"], e.details["previous_role"])
        for e in reversed(events.items)
    ]


def test_the_creator_is_the_first_admin(auth: AuthService, root: Principal, ann: Principal) -> None:
    ws = auth.create_workspace(ann, "churn")
    assert ws.name == "churn" and ws.id != "churn"
    assert auth.get_workspace("churn") == ws
    assert auth.role_in(ann, "churn") == (ws, Role.ADMIN)
    event = auth.list_audit(root, object_type="workspace")[0]
    assert (event.actor, event.action, event.object_id, event.workspace_id) == (
        "ann",
        "create",
        "churn",
        ws.id,
    )
    with pytest.raises(AlreadyExists, match="workspace 'churn' already exists"):
        auth.create_workspace(root, "churn")
    with pytest.raises(InvalidInput, match="workspace name"):
        auth.create_workspace(ann, "no spaces")


def test_narrowed_tokens_cannot_create_workspaces(auth: AuthService, ann: Principal) -> None:
    auth.create_workspace(ann, "churn")
    bound, _ = auth.create_token(ann, "bound", workspace="churn")
    viewer, _ = auth.create_token(ann, "viewer", role=Role.VIEWER)
    editor, _ = auth.create_token(ann, "editor", role=Role.EDITOR)
    for secret in (bound, viewer):
        with pytest.raises(PermissionDenied, match="cannot create workspaces"):
            auth.create_workspace(auth.authenticate(secret), "other")
    assert auth.create_workspace(auth.authenticate(editor), "other").name == "other"


def test_outsiders_cannot_tell_a_workspace_exists(
    auth: AuthService, ann: Principal, bob: Principal
) -> None:
    auth.create_workspace(ann, "churn")
    with hidden("churn"):
        auth.role_in(bob, "churn")
    with hidden("ghost"):
        auth.role_in(bob, "ghost")
    with hidden("no spaces"):
        auth.role_in(bob, "no spaces")
    with hidden("churn"):
        auth.list_members(bob, "churn")
    with hidden("churn"):
        auth.add_member(bob, "churn", "bob", Role.ADMIN)


def test_global_admins_are_admin_everywhere(
    auth: AuthService, root: Principal, ann: Principal
) -> None:
    ws = auth.create_workspace(ann, "churn")
    assert auth.role_in(root, "churn") == (ws, Role.ADMIN)
    assert auth.role_in(root, "default")[1] is Role.ADMIN
    with hidden("ghost"):
        auth.role_in(root, "ghost")


def test_role_ceilings_cap_the_role(
    auth: AuthService, root: Principal, ann: Principal, bob: Principal
) -> None:
    auth.create_workspace(ann, "churn")
    for ceiling, expected in ((Role.VIEWER, Role.VIEWER), (Role.EDITOR, Role.EDITOR)):
        secret, _ = auth.create_token(ann, "capped", role=ceiling)
        assert auth.role_in(auth.authenticate(secret), "churn")[1] is expected
    auth.add_member(ann, "churn", "bob", Role.VIEWER)
    bob_admin_token, _ = auth.create_token(bob, "high", role=Role.ADMIN)
    # A ceiling never raises a role.
    assert auth.role_in(auth.authenticate(bob_admin_token), "churn")[1] is Role.VIEWER
    root_capped, _ = auth.create_token(root, "ro", role="viewer")
    assert auth.role_in(auth.authenticate(root_capped), "churn")[1] is Role.VIEWER


def test_bound_tokens_reach_only_their_workspace(
    auth: AuthService, root: Principal, ann: Principal
) -> None:
    churn = auth.create_workspace(ann, "churn")
    auth.create_workspace(ann, "fraud")
    secret, token = auth.create_token(ann, "ci", workspace="churn", role="editor")
    assert (token.workspace_id, token.role) == (churn.id, Role.EDITOR)
    ci = auth.authenticate(secret)
    assert (ci.token_workspace_id, ci.token_role) == (churn.id, Role.EDITOR)
    assert auth.role_in(ci, "churn") == (churn, Role.EDITOR)
    with hidden("fraud"):
        auth.role_in(ci, "fraud")
    assert [w.name for w in auth.list_workspaces(ci)] == ["churn"]
    admin_bound, _ = auth.create_token(root, "admin-ci", workspace="churn")
    with hidden("fraud"):
        auth.role_in(auth.authenticate(admin_bound), "fraud")


def test_tokens_bind_only_to_reachable_workspaces(
    auth: AuthService, ann: Principal, bob: Principal
) -> None:
    auth.create_workspace(ann, "churn")
    with hidden("churn"):
        auth.create_token(bob, "ci", workspace="churn")


def test_tokens_made_by_narrowed_tokens_stay_as_narrow(auth: AuthService, ann: Principal) -> None:
    churn = auth.create_workspace(ann, "churn")
    auth.create_workspace(ann, "fraud")
    secret, _ = auth.create_token(ann, "ci", workspace="churn", role="editor")
    ci = auth.authenticate(secret)
    _, child = auth.create_token(ci, "child")
    assert (child.workspace_id, child.role) == (churn.id, Role.EDITOR)
    _, lower = auth.create_token(ci, "lower", role="viewer")
    assert lower.role is Role.VIEWER
    with pytest.raises(PermissionDenied, match="limited to editor cannot create one with role"):
        auth.create_token(ci, "higher", role="admin")
    with hidden("fraud"):
        auth.create_token(ci, "elsewhere", workspace="fraud")


def test_list_workspaces(
    auth: AuthService, root: Principal, ann: Principal, bob: Principal
) -> None:
    auth.create_workspace(ann, "b-team")
    auth.create_workspace(bob, "c-team")
    auth.create_workspace(ann, "a-team")
    assert [w.name for w in auth.list_workspaces(ann)] == ["a-team", "b-team"]
    assert [w.name for w in auth.list_workspaces(bob)] == ["c-team"]
    everything = [w.name for w in auth.list_workspaces(root)]
    assert everything == ["a-team", "b-team", "c-team", "default"]
    first = auth.list_workspaces(root, max_results=3)
    rest = auth.list_workspaces(root, max_results=3, page_token=first.next_page_token)
    assert [w.name for w in rest] == ["default"]


def test_admins_manage_members(
    auth: AuthService, root: Principal, ann: Principal, bob: Principal, make_user: MakeUser
) -> None:
    ws = auth.create_workspace(ann, "churn")
    member = auth.add_member(ann, "churn", "bob", "viewer")
    assert (member.workspace_id, member.user_name, member.role) == (ws.id, "bob", Role.VIEWER)
    assert auth.role_in(bob, "churn")[1] is Role.VIEWER
    auth.set_member_role(ann, "churn", "bob", Role.EDITOR)
    assert auth.role_in(bob, "churn")[1] is Role.EDITOR
    make_user("cid")
    with pytest.raises(PermissionDenied, match="only admins of workspace 'churn'"):
        auth.add_member(bob, "churn", "cid", Role.VIEWER)  # an editor is not enough
    members = auth.list_members(bob, "churn")  # any member may look
    assert [(m.user_name, m.role) for m in members] == [("ann", Role.ADMIN), ("bob", Role.EDITOR)]
    removed = auth.remove_member(ann, "churn", "bob")
    assert (removed.user_name, removed.role) == ("bob", Role.EDITOR)
    with hidden("churn"):
        auth.role_in(bob, "churn")
    assert changes(auth, root) == [
        ("ann", "bob", "viewer", None),
        ("ann", "bob", "editor", "viewer"),
        ("ann", "bob", None, "editor"),
    ]
    assert {e.workspace_id for e in auth.list_audit(root, action="permission_change")} == {ws.id}


def test_member_errors(auth: AuthService, ann: Principal, bob: Principal) -> None:
    auth.create_workspace(ann, "churn")
    auth.add_member(ann, "churn", "bob", Role.VIEWER)
    with pytest.raises(AlreadyExists, match="'bob' is already a member of workspace 'churn'"):
        auth.add_member(ann, "churn", "bob", Role.EDITOR)
    with pytest.raises(NotFound, match="user 'ghost' not found"):
        auth.add_member(ann, "churn", "ghost", Role.VIEWER)
    with pytest.raises(InvalidInput, match="role must be one of"):
        auth.add_member(ann, "churn", "admin", "owner")
    with pytest.raises(NotFound, match="'admin' is not a member of workspace 'churn'"):
        auth.set_member_role(ann, "churn", "admin", Role.VIEWER)


def test_the_last_admin_cannot_leave_or_be_demoted(
    auth: AuthService, root: Principal, ann: Principal, bob: Principal
) -> None:
    auth.create_workspace(ann, "churn")
    auth.add_member(ann, "churn", "bob", Role.EDITOR)
    with pytest.raises(Conflict, match="last admin of workspace 'churn'"):
        auth.set_member_role(ann, "churn", "ann", Role.EDITOR)
    with pytest.raises(Conflict, match="last admin of workspace 'churn'"):
        auth.remove_member(ann, "churn", "ann")
    with pytest.raises(Conflict, match="last admin"):
        auth.remove_member(root, "churn", "ann")  # global admins are no members
    auth.set_member_role(ann, "churn", "bob", Role.ADMIN)
    auth.remove_member(ann, "churn", "ann")  # bob is left
    assert [m.user_name for m in auth.list_members(bob, "churn")] == ["bob"]


def test_a_narrowed_admin_cannot_manage_members(
    auth: AuthService, root: Principal, ann: Principal, make_user: MakeUser
) -> None:
    auth.create_workspace(ann, "churn")
    make_user("cid")
    editor_token, _ = auth.create_token(ann, "editor", role="editor")
    with pytest.raises(PermissionDenied, match="acts as editor"):
        auth.add_member(auth.authenticate(editor_token), "churn", "cid", "viewer")
    capped_root, _ = auth.create_token(root, "editor", role="editor")
    with pytest.raises(PermissionDenied):
        auth.add_member(auth.authenticate(capped_root), "churn", "cid", "viewer")
    assert auth.add_member(root, "churn", "cid", "viewer").role is Role.VIEWER


def test_a_long_workspace_name_is_not_echoed_back_whole(auth: AuthService, bob: Principal) -> None:
    with pytest.raises(NotFound) as caught:
        auth.role_in(bob, "w" * 10_000)
    assert len(caught.value.message) < 200
