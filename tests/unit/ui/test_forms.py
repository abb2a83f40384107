"""The UI's form rules: redirects stay on this server, and links keep the workspace."""

from __future__ import annotations

import pytest

from gnomon._types import Scope
from gnomon.auth.entities import Principal, Role
from gnomon.errors import PermissionDenied
from gnomon.ui.forms import check_csrf, local_path
from gnomon.ui.render import href
from gnomon.ui.session import Viewer


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "",
        None,
        "relative/path",
        "/ok\nSet-Cookie: x=1",
        "/" + "a" * 3000,
    ],
)
def test_a_redirect_never_leaves_the_server(target: str | None) -> None:
    assert local_path(target) == "/"


def test_a_local_path_is_kept() -> None:
    assert (
        local_path("/experiments/abc?filter=x%20%3D%201") == "/experiments/abc?filter=x%20%3D%201"
    )


def test_a_form_without_the_sessions_token_is_refused() -> None:
    with pytest.raises(PermissionDenied, match="reload"):
        check_csrf({"csrf": "guess"}, "right-token")
    with pytest.raises(PermissionDenied):
        check_csrf({}, "right-token")
    check_csrf({"csrf": "right-token"}, "right-token")


def viewer_in(workspace: str) -> Viewer:
    return Viewer(Principal("u", "ann"), workspace, Scope("w", "ann"), Role.VIEWER, "t")


def test_links_carry_a_workspace_other_than_the_default() -> None:
    assert href(viewer_in("default"), "/runs/1", path="a b", empty="") == "/runs/1?path=a+b"
    assert href(viewer_in("team"), "/runs/1") == "/runs/1?workspace=team"
    assert href(None, "/") == "/"
