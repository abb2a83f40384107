"""Recording and listing the audit log, through the auth service on SQLite."""

from __future__ import annotations

from inspect import Parameter, signature

import pytest

from gnomon.auth.audit import PRUNE_INTERVAL_MS
from gnomon.auth.entities import AuditAction, Principal, Role
from gnomon.auth.service import AuthService
from gnomon.auth.sql import SqlAuthStore
from gnomon.auth.sql_audit import SqlAuditStore
from gnomon.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from gnomon.store.database import Database
from tests.unit.auth.conftest import MakeUser
from tests.unit.auth.support import DAY, SECOND, T0, Clock


def test_every_identity_change_is_recorded(
    auth: AuthService, root: Principal, make_user: MakeUser, clock: Clock
) -> None:
    ann = make_user("ann")
    ws = auth.create_workspace(ann, "churn")
    auth.add_member(ann, "churn", "admin", Role.VIEWER)
    auth.set_member_role(ann, "churn", "admin", Role.EDITOR)
    auth.remove_member(ann, "churn", "admin")
    _, token = auth.create_token(ann, "ci", workspace="churn")
    auth.revoke_token(ann, token.id)
    auth.disable_user(root, "ann")
    events = [
        (e.actor, e.action, e.object_type, e.object_id, e.workspace_id)
        for e in reversed(auth.list_audit(root).items)
    ]
    assert events == [
        ("system", "create", "user", "admin", None),
        ("admin", "login", "user", "admin", None),
        ("admin", "create", "user", "ann", None),
        ("ann", "login", "user", "ann", None),
        ("ann", "create", "workspace", "churn", ws.id),
        ("ann", "permission_change", "member", "admin", ws.id),
        ("ann", "permission_change", "member", "admin", ws.id),
        ("ann", "permission_change", "member", "admin", ws.id),
        ("ann", "create", "token", token.id, ws.id),
        ("ann", "delete", "token", token.id, ws.id),
        ("admin", "update", "user", "ann", None),
    ]
    assert all(e.time == T0 for e in auth.list_audit(root))


def test_record_a_change_made_elsewhere(auth: AuthService, root: Principal) -> None:
    event = auth.log.record(
        root,
        AuditAction.DELETE,
        "run",
        "r1",
        workspace_id="default",
        details={"name": "baseline", "steps": [1, 2]},
        address="10.0.0.1",
    )
    assert (event.actor, event.action, event.object_type, event.object_id) == (
        "admin",
        "delete",
        "run",
        "r1",
    )
    assert auth.list_audit(root, workspace="default")[0] == event
    assert auth.log.record("scheduler", "retrain", "pipeline", "p1").actor == "scheduler"


def test_record_append_and_event_take_the_same_arguments_the_trailing_by_keyword(
    auth: AuthService, root: Principal
) -> None:
    shapes = {
        name: [(p.name, p.kind) for p in signature(getattr(auth.log, name)).parameters.values()]
        for name in ("record", "append", "event")
    }
    assert shapes["record"] == shapes["append"] == shapes["event"]
    assert [name for name, kind in shapes["record"] if kind is Parameter.KEYWORD_ONLY] == [
        "workspace_id",
        "details",
        "address",
    ]
    with pytest.raises(TypeError):
        auth.log.append("ann", "create", "run", "r1", "default")  # type: ignore[misc]
    event = auth.log.append("ann", "create", "run", "r1", workspace_id="w1", details={"a": 1})
    assert (event.workspace_id, event.details, event.address) == ("w1", {"a": 1}, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": ""}, "action"),
        ({"action": "x" * 65}, "action"),
        ({"object_type": ""}, "object_type"),
        ({"actor": ""}, "actor"),
        ({"object_id": 5}, "object_id"),
        ({"details": {"when": object()}}, "JSON"),
        ({"details": ["not", "a", "mapping"]}, "mapping"),
    ],
)
def test_record_checks_its_input(
    auth: AuthService, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "actor": "ann",
        "action": "create",
        "object_type": "run",
        "object_id": "r1",
    } | kwargs
    with pytest.raises(InvalidInput, match=message):
        auth.log.record(**args)  # type: ignore[arg-type]


def test_filters_and_pages(auth: AuthService, root: Principal, clock: Clock) -> None:
    start = clock.now
    for i, (actor, action, kind) in enumerate(
        [
            ("ann", "create", "run"),
            ("bob", "delete", "run"),
            ("ann", "delete", "model"),
            ("bob", "create", "model"),
            ("ann", "update", "run"),
        ]
    ):
        clock.advance(SECOND)
        auth.log.record(actor, action, kind, f"o{i}", workspace_id="default")

    def ids(**filters: object) -> list[str]:
        page = auth.list_audit(root, **filters)  # type: ignore[arg-type]
        return [e.object_id for e in page]

    assert ids(actor="ann") == ["o4", "o2", "o0"]
    assert ids(action=AuditAction.DELETE) == ["o2", "o1"]
    assert ids(object_type="model") == ["o3", "o2"]
    assert ids(actor="ann", object_type="run") == ["o4", "o0"]
    assert ids(since=start + 2 * SECOND, until=start + 4 * SECOND) == ["o3", "o2", "o1"]
    assert ids(workspace="default", action="create", object_type="run") == ["o0"]
    pages, token = [], None
    while True:
        page = auth.list_audit(root, object_type="run", max_results=2, page_token=token)
        pages.append([e.object_id for e in page])
        if (token := page.next_page_token) is None:
            break
    assert pages == [["o4", "o1"], ["o0"]]
    with pytest.raises(InvalidInput, match="since"):
        auth.list_audit(root, since="yesterday")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="max_results"):
        auth.list_audit(root, max_results=1001)


def test_who_may_read_the_log(auth: AuthService, root: Principal, make_user: MakeUser) -> None:
    ann, bob, cid = make_user("ann"), make_user("bob"), make_user("cid")
    churn = auth.create_workspace(ann, "churn")
    auth.create_workspace(cid, "fraud")
    auth.add_member(ann, "churn", "bob", Role.EDITOR)
    auth.log.record(bob, "create", "run", "r1", workspace_id=churn.id)
    # A workspace admin reads that workspace's events, and only with the filter set.
    seen = auth.list_audit(ann, workspace="churn")
    assert [(e.object_type, e.object_id) for e in seen] == [
        ("run", "r1"),
        ("member", "bob"),
        ("workspace", "churn"),
    ]
    assert list(seen) == list(auth.list_audit(root, workspace="churn"))
    with pytest.raises(PermissionDenied, match="whole audit log"):
        auth.list_audit(ann)
    with pytest.raises(PermissionDenied, match="only admins of workspace 'churn'"):
        auth.list_audit(bob, workspace="churn")
    with pytest.raises(NotFound, match="workspace 'fraud' not found"):
        auth.list_audit(ann, workspace="fraud")
    read_only, _ = auth.create_token(root, "ro", role="viewer")
    with pytest.raises(PermissionDenied):
        auth.list_audit(auth.authenticate(read_only))


class CountingAuditStore(SqlAuditStore):
    prunes = 0

    def prune_events(self, before: int) -> int:
        self.prunes += 1
        return super().prune_events(before)


def test_events_older_than_the_retention_are_pruned_as_new_ones_are_written(
    sqlite_db: Database, clock: Clock
) -> None:
    store = CountingAuditStore(sqlite_db)
    auth = AuthService(SqlAuthStore(sqlite_db), store, clock=clock, audit_retention_days=30)
    root = Principal("root", "root", is_admin=True)

    def kept() -> list[str]:
        return [e.object_id for e in auth.list_audit(root, max_results=1000)]

    auth.log.record(root, "create", "run", "day-0")
    clock.advance(20 * DAY)
    auth.log.record(root, "create", "run", "day-20")
    clock.advance(10 * DAY)
    auth.log.record(root, "create", "run", "day-30")  # day 0 is 30 days old, not older
    assert kept() == ["day-30", "day-20", "day-0"]
    clock.advance(PRUNE_INTERVAL_MS)
    auth.log.record(root, "create", "run", "day-30-and-an-hour")
    assert kept() == ["day-30-and-an-hour", "day-30", "day-20"]
    # Pruning runs at most once an hour in a process, however many events are written.
    before = store.prunes
    for _ in range(150):  # an hour and a half
        auth.log.record(root, "create", "run", "busy")
        clock.advance(PRUNE_INTERVAL_MS // 100)
    assert store.prunes == before + 1
    # Failed tokens, the events anonymous callers cause, prune too.
    clock.advance(20 * DAY)
    with pytest.raises(Unauthenticated):
        auth.authenticate("gnm_bogus", address="10.0.0.1")
    assert "day-20" not in kept() and "day-30" in kept()


def test_without_a_retention_nothing_is_pruned(
    auth: AuthService, root: Principal, clock: Clock
) -> None:
    auth.log.record(root, "create", "run", "ancient")
    clock.advance(100 * 365 * DAY)
    auth.log.record(root, "create", "run", "new")
    assert {"ancient", "new"} <= {e.object_id for e in auth.list_audit(root, max_results=1000)}
