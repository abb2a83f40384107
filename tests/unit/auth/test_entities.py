"""Roles and principals."""

from __future__ import annotations

import pytest

from gnomon.auth.entities import ApiToken, Principal, Role

V, E, A = Role.VIEWER, Role.EDITOR, Role.ADMIN


@pytest.mark.parametrize(
    ("role", "required", "allowed"),
    [(V, V, True), (V, E, False), (E, V, True), (E, A, False), (A, V, True), (A, A, True)],
)
def test_allows(role: Role, required: Role, allowed: bool) -> None:
    assert role.allows(required) is allowed


@pytest.mark.parametrize(
    ("role", "ceiling", "capped"),
    [(A, None, A), (A, V, V), (E, A, E), (V, A, V), (E, E, E), (A, E, E)],
)
def test_cap(role: Role, ceiling: Role | None, capped: Role) -> None:
    assert role.cap(ceiling) is capped


def test_principal_powers() -> None:
    assert Principal("u", "root", is_admin=True).acts_as_admin
    assert Principal("u", "root", True, token_role=A).acts_as_admin
    assert not Principal("u", "root", True, token_role=E).acts_as_admin
    assert not Principal("u", "root", True, token_workspace_id="w").acts_as_admin
    assert not Principal("u", "ann").acts_as_admin
    assert Principal("u", "ann").unrestricted
    assert not Principal("u", "ann", token_role=A).unrestricted


def test_token_activity() -> None:
    token = ApiToken("t", "u", "ci", "gnm_abcd", created_time=0, expires_time=10)
    assert token.is_active(9) and not token.is_active(10)
    assert not ApiToken("t", "u", "ci", "gnm_abcd", 0, revoked_time=5).is_active(1)
