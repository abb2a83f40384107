"""Requests with a bad API token: a bounded audit trail per address, then 429."""

from __future__ import annotations

import pytest

from gnomon.auth.entities import AuditAction, Principal
from gnomon.auth.service import AuthService
from gnomon.auth.token_throttle import MAX_BAD_TOKENS, WINDOW_MS
from gnomon.errors import RateLimited
from gnomon.errors import Unauthenticated as Unauth
from tests.unit.auth.support import SECOND, Clock

FORGED = "gnm_" + "Z" * 43


def token_failures(auth: AuthService, root: Principal, address: str | None = None) -> int:
    events = auth.list_audit(root, action=AuditAction.TOKEN_FAILED, max_results=1000)
    return sum(1 for e in events if address is None or e.address == address)


def test_an_address_sending_bad_tokens_is_recorded_a_bounded_number_of_times(
    auth: AuthService, root: Principal, clock: Clock
) -> None:
    outcomes = []
    for _ in range(500):
        with pytest.raises((Unauth, RateLimited)) as raised:
            auth.authenticate(FORGED, address="10.6.6.6")
        outcomes.append(type(raised.value))
        clock.advance(10)
    assert outcomes == [Unauth] * MAX_BAD_TOKENS + [RateLimited] * (500 - MAX_BAD_TOKENS)
    assert token_failures(auth, root) == MAX_BAD_TOKENS
    assert isinstance(raised.value, RateLimited)
    # The first failure leaves the window 15 minutes after it happened.
    assert raised.value.retry_after == (WINDOW_MS - 499 * 10) // SECOND + 1
    assert "10.6.6.6" in raised.value.message


def test_a_throttled_address_keeps_its_valid_tokens(
    auth: AuthService, root: Principal, clock: Clock
) -> None:
    secret, _ = auth.create_token(root, "ci")
    for _ in range(MAX_BAD_TOKENS):
        with pytest.raises(Unauth):
            auth.authenticate(FORGED, address="10.6.6.6")
    with pytest.raises(RateLimited):
        auth.authenticate(FORGED, address="10.6.6.6")
    assert auth.authenticate(secret, address="10.6.6.6").name == "admin"
    # Other addresses are not held back, and the address is heard again after the window.
    with pytest.raises(Unauth):
        auth.authenticate(FORGED, address="10.0.0.1")
    clock.advance(WINDOW_MS)
    with pytest.raises(Unauth):
        auth.authenticate(FORGED, address="10.6.6.6")
    assert token_failures(auth, root, "10.6.6.6") == MAX_BAD_TOKENS + 1


def test_revoked_and_expired_tokens_count_too(auth: AuthService, root: Principal) -> None:
    secret, token = auth.create_token(root, "old")
    auth.revoke_token(root, token.id)
    for _ in range(MAX_BAD_TOKENS):
        with pytest.raises(Unauth, match="revoked"):
            auth.authenticate(secret, address="10.6.6.6")
    with pytest.raises(RateLimited):
        auth.authenticate(secret, address="10.6.6.6")
    assert token_failures(auth, root, "10.6.6.6") == MAX_BAD_TOKENS


def test_requests_without_an_address_share_one_budget(auth: AuthService, root: Principal) -> None:
    for _ in range(MAX_BAD_TOKENS):
        with pytest.raises(Unauth):
            auth.authenticate(FORGED)
    with pytest.raises(RateLimited, match="from this address"):
        auth.authenticate(FORGED)
    assert token_failures(auth, root) == MAX_BAD_TOKENS
