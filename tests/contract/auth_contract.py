"""The AuthStore and AuditStore contracts, one suite for every implementation.

Subclasses supply ``store`` (an AuthStore) and ``audit`` (an AuditStore) over an empty
database of their own: users are global, so tests that count them need one.
"""

from __future__ import annotations

from typing import Any

import pytest

from gnomon.auth.entities import (
    AuditQuery,
    LoginLimits,
    NewAuditEvent,
    NewToken,
    Role,
    User,
    Workspace,
)
from gnomon.auth.store import AuditStore, AuthStore
from gnomon.errors import AlreadyExists, Conflict, InvalidInput, NotFound

T0 = 1_700_000_000_000


def limits(since: int, per_user: int, per_address: int | None = None) -> LoginLimits:
    return LoginLimits(since, per_user, per_user if per_address is None else per_address)


def user(store: AuthStore, name: str, is_admin: bool = False) -> User:
    return store.create_user(name, f"hash-of-{name}", is_admin, T0)


def token(
    store: AuthStore,
    owner: User,
    name: str = "t",
    created_time: int = T0,
    workspace_id: str | None = None,
    role: Role | None = None,
    expires_time: int | None = None,
) -> NewToken:
    spec = NewToken(
        user_id=owner.id,
        name=name,
        token_hash=f"{owner.name}-{name}".ljust(64, "0"),
        prefix="gnm_abcd",
        created_time=created_time,
        workspace_id=workspace_id,
        role=role,
        expires_time=expires_time,
    )
    store.create_token(spec)
    return spec


def workspace(store: AuthStore, name: str, creator: User) -> Workspace:
    return store.create_workspace(name, creator.id, T0)


class AuthStoreContract:
    __test__ = False

    # -- users -------------------------------------------------------------------------------

    def test_create_and_get_user(self, store: AuthStore) -> None:
        created = user(store, "ann", is_admin=True)
        assert (created.name, created.is_admin, created.disabled) == ("ann", True, False)
        assert created.created_time == T0
        assert store.get_user("ann") == created
        assert not hasattr(created, "password_hash")

    def test_duplicate_and_unknown_users(self, store: AuthStore) -> None:
        user(store, "ann")
        with pytest.raises(AlreadyExists, match="user 'ann' already exists"):
            user(store, "ann")
        with pytest.raises(NotFound, match="user 'ghost' not found"):
            store.get_user("ghost")
        with pytest.raises(NotFound, match="'ghost'"):
            store.get_credentials("ghost")
        with pytest.raises(NotFound, match="'ghost'"):
            store.update_user("ghost", disabled=True)

    def test_credentials_hold_the_hash(self, store: AuthStore) -> None:
        created = user(store, "ann")
        assert store.get_credentials("ann") == (created, "hash-of-ann")

    def test_list_users_pages_by_name(self, store: AuthStore) -> None:
        for name in ("cid", "bob", "ann"):
            user(store, name)
        first = store.list_users(max_results=2)
        assert [u.name for u in first] == ["ann", "bob"]
        second = store.list_users(max_results=2, page_token=first.next_page_token)
        assert [u.name for u in second] == ["cid"]
        assert second.next_page_token is None
        with pytest.raises(InvalidInput, match="page token"):
            store.list_users(max_results=2, page_token="garbage!")

    def test_update_user(self, store: AuthStore) -> None:
        user(store, "ann")
        assert store.update_user("ann", disabled=True).disabled is True
        store.update_user("ann", password_hash="new-hash")
        found, hashed = store.get_credentials("ann")
        assert (found.disabled, hashed) == (True, "new-hash")
        assert store.update_user("ann", disabled=False).disabled is False

    def test_the_last_enabled_admin_cannot_be_disabled(self, store: AuthStore) -> None:
        user(store, "root", is_admin=True)
        user(store, "ops", is_admin=True)
        user(store, "ann")
        store.update_user("ann", disabled=True)  # not an admin: no rule
        store.update_user("ops", disabled=True)
        with pytest.raises(Conflict, match=r"'root'.*last enabled global administrator"):
            store.update_user("root", disabled=True)
        assert store.get_user("root").disabled is False
        store.update_user("ops", disabled=True)  # already disabled: still fine

    # -- tokens ------------------------------------------------------------------------------

    def test_create_and_find_token(self, store: AuthStore) -> None:
        ann = user(store, "ann")
        ws = workspace(store, "team", ann)
        spec = token(store, ann, workspace_id=ws.id, role=Role.VIEWER, expires_time=T0 + 5)
        found, owner = store.find_token(spec.token_hash)
        assert owner == ann
        assert (found.name, found.prefix, found.user_id) == ("t", "gnm_abcd", ann.id)
        assert (found.workspace_id, found.role, found.expires_time) == (ws.id, Role.VIEWER, T0 + 5)
        assert (found.revoked_time, found.last_used_time) == (None, None)
        assert not hasattr(found, "token_hash")

    def test_token_errors(self, store: AuthStore) -> None:
        ann = user(store, "ann")
        spec = token(store, ann)
        with pytest.raises(NotFound):
            store.find_token("f" * 64)
        with pytest.raises(AlreadyExists):
            store.create_token(spec)
        with pytest.raises(NotFound, match="user 'nobody' not found"):
            store.create_token(NewToken("nobody", "t", "e" * 64, "gnm_x", T0))
        with pytest.raises(NotFound, match="workspace 'nowhere' not found"):
            store.create_token(NewToken(ann.id, "t", "e" * 64, "gnm_x", T0, "nowhere"))

    def test_list_tokens_newest_first(self, store: AuthStore) -> None:
        ann, bob = user(store, "ann"), user(store, "bob")
        for i in range(3):
            token(store, ann, f"t{i}", created_time=T0 + i)
        token(store, bob, "bobs")
        first = store.list_tokens(ann.id, max_results=2)
        assert [t.name for t in first] == ["t2", "t1"]
        rest = store.list_tokens(ann.id, max_results=2, page_token=first.next_page_token)
        assert [t.name for t in rest] == ["t0"]
        assert rest.next_page_token is None

    def test_revoke_token(self, store: AuthStore) -> None:
        ann, bob = user(store, "ann"), user(store, "bob")
        token(store, ann)
        token_id = store.list_tokens(ann.id, 10)[0].id
        with pytest.raises(NotFound, match=repr(token_id)):
            store.revoke_token(token_id, T0 + 1, bob.id)  # not bob's
        assert store.revoke_token(token_id, T0 + 1, ann.id).revoked_time == T0 + 1
        assert store.revoke_token(token_id, T0 + 9, None).revoked_time == T0 + 1
        assert store.list_tokens(ann.id, 10)[0].revoked_time == T0 + 1
        with pytest.raises(NotFound, match="'nope'"):
            store.revoke_token("nope", T0, None)

    def test_touch_token(self, store: AuthStore) -> None:
        ann = user(store, "ann")
        spec = token(store, ann)
        found, _ = store.find_token(spec.token_hash)
        store.touch_token(found.id, T0 + 60_000)
        assert store.find_token(spec.token_hash)[0].last_used_time == T0 + 60_000
        store.touch_token("unknown", T0)  # ignored

    # -- workspaces --------------------------------------------------------------------------

    def test_create_workspace_makes_the_creator_admin(self, store: AuthStore) -> None:
        ann = user(store, "ann")
        ws = workspace(store, "team", ann)
        assert (ws.name, ws.created_time) == ("team", T0)
        assert ws.id != "team"
        assert store.get_workspace("team") == ws
        assert store.find_role("team", ann.id) == (ws, Role.ADMIN)
        with pytest.raises(AlreadyExists, match="workspace 'team' already exists"):
            workspace(store, "team", ann)
        with pytest.raises(NotFound, match="user 'ghost' not found"):
            store.create_workspace("other", "ghost", T0)
        with pytest.raises(NotFound, match="workspace 'nope' not found"):
            store.get_workspace("nope")

    def test_default_workspace_exists(self, store: AuthStore) -> None:
        assert store.get_workspace("default").id == "default"

    def test_list_workspaces(self, store: AuthStore) -> None:
        ann, bob = user(store, "ann"), user(store, "bob")
        b, c = workspace(store, "b-team", ann), workspace(store, "c-team", bob)
        a = workspace(store, "a-team", ann)
        everything = store.list_workspaces(None)
        assert [w.name for w in everything] == ["a-team", "b-team", "c-team", "default"]
        assert list(store.list_workspaces(ann.id)) == [a, b]
        assert list(store.list_workspaces(ann.id, workspace_id=b.id)) == [b]
        assert list(store.list_workspaces(ann.id, workspace_id=c.id)) == []
        first = store.list_workspaces(None, max_results=3)
        assert len(first) == 3
        rest = store.list_workspaces(None, max_results=3, page_token=first.next_page_token)
        assert [w.name for w in rest] == ["default"]

    def test_find_role(self, store: AuthStore) -> None:
        ann, bob = user(store, "ann"), user(store, "bob")
        ws = workspace(store, "team", ann)
        assert store.find_role("team", bob.id) == (ws, None)
        store.add_member(ws.id, bob.id, Role.EDITOR)
        assert store.find_role("team", bob.id) == (ws, Role.EDITOR)
        with pytest.raises(NotFound, match="workspace 'nope' not found"):
            store.find_role("nope", bob.id)

    # -- members -----------------------------------------------------------------------------

    def test_add_and_list_members(self, store: AuthStore) -> None:
        ann, bob, cid = user(store, "ann"), user(store, "bob"), user(store, "cid")
        ws = workspace(store, "team", bob)
        added = store.add_member(ws.id, cid.id, Role.VIEWER)
        assert (added.user_name, added.role, added.workspace_id) == ("cid", Role.VIEWER, ws.id)
        store.add_member(ws.id, ann.id, Role.EDITOR)
        members = store.list_members(ws.id, 10)
        assert [(m.user_name, m.role) for m in members] == [
            ("ann", Role.EDITOR),
            ("bob", Role.ADMIN),
            ("cid", Role.VIEWER),
        ]
        first = store.list_members(ws.id, 2)
        rest = store.list_members(ws.id, 2, first.next_page_token)
        assert [m.user_name for m in rest] == ["cid"]

    def test_member_errors(self, store: AuthStore) -> None:
        ann, bob = user(store, "ann"), user(store, "bob")
        ws = workspace(store, "team", ann)
        with pytest.raises(AlreadyExists, match="'ann' is already a member of workspace 'team'"):
            store.add_member(ws.id, ann.id, Role.VIEWER)
        with pytest.raises(NotFound, match="user 'ghost' not found"):
            store.add_member(ws.id, "ghost", Role.VIEWER)
        with pytest.raises(NotFound, match="workspace 'nowhere' not found"):
            store.add_member("nowhere", bob.id, Role.VIEWER)
        with pytest.raises(NotFound, match="'bob' is not a member of workspace 'team'"):
            store.update_member(ws.id, bob.id, Role.ADMIN)
        with pytest.raises(NotFound, match="'bob' is not a member of workspace 'team'"):
            store.remove_member(ws.id, bob.id)

    def test_update_member_returns_the_previous_role(self, store: AuthStore) -> None:
        ann, bob = user(store, "ann"), user(store, "bob")
        ws = workspace(store, "team", ann)
        store.add_member(ws.id, bob.id, Role.VIEWER)
        member, previous = store.update_member(ws.id, bob.id, Role.ADMIN)
        assert (member.user_name, member.role, previous) == ("bob", Role.ADMIN, Role.VIEWER)
        assert store.find_role("team", bob.id)[1] is Role.ADMIN

    def test_the_last_admin_stays(self, store: AuthStore) -> None:
        ann, bob = user(store, "ann"), user(store, "bob")
        ws = workspace(store, "team", ann)
        store.add_member(ws.id, bob.id, Role.EDITOR)
        with pytest.raises(Conflict, match="cannot demote the last admin of workspace 'team'"):
            store.update_member(ws.id, ann.id, Role.EDITOR)
        with pytest.raises(Conflict, match="cannot remove the last admin of workspace 'team'"):
            store.remove_member(ws.id, ann.id)
        assert store.find_role("team", ann.id)[1] is Role.ADMIN
        store.update_member(ws.id, bob.id, Role.ADMIN)
        store.update_member(ws.id, ann.id, Role.VIEWER)  # bob is admin now
        removed = store.remove_member(ws.id, ann.id)
        assert (removed.user_name, removed.role) == ("ann", Role.VIEWER)
        assert store.find_role("team", ann.id)[1] is None
        store.update_member(ws.id, bob.id, Role.ADMIN)  # admin to admin is no demotion


def event(
    time: int,
    actor: str = "ann",
    action: str = "create",
    object_type: str = "run",
    object_id: str = "r1",
    workspace_id: str | None = None,
    details: dict[str, Any] | None = None,
    address: str | None = None,
) -> NewAuditEvent:
    return NewAuditEvent(
        time, actor, action, object_type, object_id, workspace_id, details or {}, address
    )


class AuditStoreContract:
    __test__ = False

    def test_append_returns_the_event(self, audit: AuditStore) -> None:
        details = {"role": "admin", "nested": {"n": [1, 2]}}
        first = audit.append(event(T0, workspace_id="w1", details=details, address="10.0.0.1"))
        assert (first.time, first.actor, first.action) == (T0, "ann", "create")
        assert (first.workspace_id, first.details, first.address) == ("w1", details, "10.0.0.1")
        second = audit.append(event(T0))
        assert second.id > first.id
        assert list(audit.list_events(AuditQuery())) == [second, first]

    def test_newest_first_and_ties_by_id(self, audit: AuditStore) -> None:
        for time, object_id in ((T0, "a"), (T0 + 2, "b"), (T0 + 1, "c"), (T0 + 2, "d")):
            audit.append(event(time, object_id=object_id))
        assert [e.object_id for e in audit.list_events(AuditQuery())] == ["d", "b", "c", "a"]

    def test_filters(self, audit: AuditStore) -> None:
        audit.append(event(T0, "ann", workspace_id="w1"))
        audit.append(event(T0 + 1, "bob", workspace_id="w2", action="delete"))
        audit.append(event(T0 + 2, "bob", object_type="user", action="login"))
        audit.append(event(T0 + 3, "ann", workspace_id="w1", action="delete"))

        def times(**filters: Any) -> list[int]:
            return [e.time - T0 for e in audit.list_events(AuditQuery(**filters))]

        assert times(workspace_id="w1") == [3, 0]
        assert times(actor="bob") == [2, 1]
        assert times(action="delete") == [3, 1]
        assert times(object_type="user") == [2]
        assert times(since=T0 + 1, until=T0 + 2) == [2, 1]
        assert times(actor="ann", action="delete", workspace_id="w1") == [3]
        assert times(actor="nobody") == []

    def test_pages(self, audit: AuditStore) -> None:
        for i in range(5):
            audit.append(event(T0 + i))
        seen: list[int] = []
        page_token = None
        while True:
            page = audit.list_events(AuditQuery(max_results=2, page_token=page_token))
            seen += [e.time - T0 for e in page]
            page_token = page.next_page_token
            if page_token is None:
                break
        assert seen == [4, 3, 2, 1, 0]
        with pytest.raises(InvalidInput, match="page token"):
            audit.list_events(AuditQuery(page_token="garbage!"))

    def test_filter_by_address(self, audit: AuditStore) -> None:
        audit.append(event(T0, address="10.0.0.1"))
        audit.append(event(T0 + 1, address="10.0.0.2"))
        audit.append(event(T0 + 2))
        found = audit.list_events(AuditQuery(address="10.0.0.1"))
        assert [e.time for e in found] == [T0]

    def test_append_limited_counts_by_action_and_address(self, audit: AuditStore) -> None:
        def failed(time: int) -> NewAuditEvent:
            return event(time, action="token_failed", address="10.0.0.1")

        assert audit.append_limited(failed(T0), since=T0, limit=2) == []
        assert audit.append_limited(failed(T0 + 1), since=T0, limit=2) == [T0]
        # The limit is reached: counted, not stored.
        assert audit.append_limited(failed(T0 + 2), T0, 2) == [T0 + 1, T0]
        # Other addresses, no address, other actions and older events are counted apart.
        assert audit.append_limited(event(T0 + 3, action="token_failed"), T0, 2) == []
        other = event(T0 + 4, action="token_failed", address="10.0.0.2")
        assert audit.append_limited(other, T0, 2) == []
        assert audit.append_limited(event(T0 + 5, address="10.0.0.1"), T0, 2) == []
        assert audit.append_limited(failed(T0 + 6), T0 + 1, 2) == [T0 + 1]
        stored = audit.list_events(AuditQuery(action="token_failed", address="10.0.0.1"))
        assert [e.time - T0 for e in stored] == [6, 1, 0]

    def test_prune_events(self, audit: AuditStore) -> None:
        for i in range(4):
            audit.append(event(T0 + i))
        assert audit.prune_events(T0 + 2) == 2
        assert [e.time - T0 for e in audit.list_events(AuditQuery())] == [3, 2]
        assert audit.prune_events(T0) == 0

    def test_failed_logins_by_user_and_address(self, audit: AuditStore) -> None:
        for name, address, time in (
            ("ann", "10.0.0.1", T0),
            ("ann", "10.0.0.2", T0 + 1),
            ("bob", "10.0.0.1", T0 + 2),
            ("ann", None, T0 + 3),
        ):
            assert audit.reserve_failed_login(name, address, time, limits(0, 10)) is not None
        assert audit.recent_failed_logins("ann", "10.0.0.1", limits(T0, 10)) == (
            [T0 + 3, T0 + 1, T0],
            [T0 + 2, T0],
        )
        assert audit.recent_failed_logins("ann", None, limits(T0, 2)) == ([T0 + 3, T0 + 1], [])
        # Each key is cut at its own limit.
        assert audit.recent_failed_logins("ann", "10.0.0.1", limits(T0, 1, 2)) == (
            [T0 + 3],
            [T0 + 2, T0],
        )
        assert audit.recent_failed_logins("ann", "10.0.0.1", limits(T0 + 1, 10)) == (
            [T0 + 3, T0 + 1],
            [T0 + 2],
        )
        assert audit.recent_failed_logins("cid", "10.9.9.9", limits(0, 10)) == ([], [])

    def test_reserve_stops_at_the_limit_by_user_or_by_address(self, audit: AuditStore) -> None:
        two_each = limits(T0, 2)
        assert audit.reserve_failed_login("ann", "a1", T0, two_each) is not None
        assert audit.reserve_failed_login("ann", "a2", T0 + 1, two_each) is not None
        assert audit.reserve_failed_login("ann", "a3", T0 + 2, two_each) is None  # user
        assert audit.reserve_failed_login("bob", "a1", T0 + 3, two_each) is not None
        assert audit.reserve_failed_login("cid", "a1", T0 + 4, two_each) is None  # address
        assert audit.reserve_failed_login("cid", None, T0 + 5, two_each) is not None
        assert audit.recent_failed_logins("ann", "a1", limits(T0, 10)) == (
            [T0 + 1, T0],
            [T0 + 3, T0],
        )
        # Once the oldest leaves the window, a place frees up.
        assert audit.reserve_failed_login("ann", "a3", T0 + 6, limits(T0 + 1, 2)) is not None

    def test_the_address_limit_is_apart_from_the_users(self, audit: AuditStore) -> None:
        one_per_name = limits(T0, 1, 3)
        for i in range(3):
            assert audit.reserve_failed_login(f"u{i}", "a1", T0 + i, one_per_name) is not None
        assert audit.reserve_failed_login("u0", "a2", T0 + 3, one_per_name) is None  # user
        assert audit.reserve_failed_login("u3", "a1", T0 + 4, one_per_name) is None  # address
        assert audit.reserve_failed_login("u3", "a2", T0 + 5, one_per_name) is not None

    def test_failed_logins_are_pruned_and_released_one_by_one(self, audit: AuditStore) -> None:
        first = audit.reserve_failed_login("ann", "a1", T0, limits(0, 10))
        assert audit.reserve_failed_login("bob", "a1", T0 + 1, limits(0, 10)) is not None
        last = audit.reserve_failed_login("ann", "a1", T0 + 10, limits(T0 + 1, 10))
        assert audit.recent_failed_logins("ann", "a1", limits(0, 10)) == (
            [T0 + 10],
            [T0 + 10, T0 + 1],
        )
        assert first is not None and last is not None and first != last
        audit.release_failed_login(last)
        audit.release_failed_login(first)  # pruned already: ignored
        assert audit.recent_failed_logins("ann", "a1", limits(0, 10)) == ([], [T0 + 1])

    def test_releasing_an_attempt_keeps_the_names_other_failures(self, audit: AuditStore) -> None:
        ids = [audit.reserve_failed_login("ann", f"a{i}", T0 + i, limits(0, 10)) for i in range(3)]
        middle = ids[1]
        assert middle is not None
        audit.release_failed_login(middle)
        assert audit.recent_failed_logins("ann", "a0", limits(0, 10)) == ([T0 + 2, T0], [T0])
