"""The permission catalogue and token encoding (pure, no database)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from servio.auth.passwords import pin_lookup
from servio.auth.permissions import PERMISSIONS, ROLES, permissions_for
from servio.auth.tokens import (
    decode_access_token,
    decode_device_token,
    decode_guest_token,
    decode_provider_token,
    decode_token,
    hash_refresh_token,
    issue_access_token,
    issue_device_token,
    issue_guest_token,
    issue_provider_token,
)
from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.errors import ProblemError

SETTINGS = Settings(secret_key="unit-test-secret-0123456789abcdef0123", _env_file=None)


def test_every_role_grants_only_catalogued_permissions() -> None:
    for role in ROLES:
        granted = permissions_for([role])
        assert granted, role
        assert granted <= PERMISSIONS.keys(), role


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        ("owner", {"tenant.manage", "staff.manage", "payments.refund"}, set()),
        ("admin", {"staff.manage", "flags.write"}, {"tenant.manage"}),
        ("manager", {"staff.manage", "payments.refund", "approvals.grant"}, {"flags.write"}),
        (
            "cashier",
            {"payments.take", "cash.open", "cash.close"},
            {"payments.refund", "staff.manage"},
        ),
        ("waiter", {"orders.write", "sessions.manage"}, {"payments.take", "cash.open"}),
        ("kitchen", {"kds.operate", "menu.stock"}, {"orders.write", "payments.take"}),
        ("housekeeping", {"housekeeping.operate", "tables.state"}, {"orders.read"}),
        ("finance", {"reports.finance", "audit.read", "reports.export"}, {"orders.write"}),
        ("dispatcher", {"delivery.dispatch"}, {"payments.take"}),
        ("viewer", {"menu.read", "reports.read"}, {"menu.write", "audit.read", "customers.read"}),
    ],
)
def test_role_grants(role: str, allowed: set[str], denied: set[str]) -> None:
    granted = permissions_for([role])
    assert allowed <= granted
    assert not denied & granted


def test_roles_combine_and_unknown_roles_grant_nothing() -> None:
    assert permissions_for(["superuser"]) == frozenset()
    both = permissions_for(["kitchen", "cashier"])
    assert {"kds.operate", "payments.take"} <= both
    assert permissions_for(["owner"]) == frozenset(PERMISSIONS)


def test_access_token_carries_the_claims(clock: FrozenClock) -> None:
    signed = issue_access_token(
        SETTINGS,
        user_id="U",
        tenant_id="T",
        outlet_id="O",
        roles=["waiter"],
        scopes={"orders.read", "menu.read"},
        session_id="S",
        ttl=timedelta(minutes=15),
    )
    raw = jwt.decode(signed.token, options={"verify_signature": False})
    assert {
        "sub",
        "type",
        "tenant_id",
        "outlet_id",
        "roles",
        "scopes",
        "sid",
        "exp",
        "iat",
        "jti",
    } <= raw.keys()
    assert raw["type"] == "access"
    assert raw["exp"] - raw["iat"] == 15 * 60
    claims = decode_access_token(SETTINGS, signed.token)
    assert claims.scopes == {"orders.read", "menu.read"}
    assert (claims.user_id, claims.tenant_id, claims.outlet_id, claims.session_id) == (
        "U",
        "T",
        "O",
        "S",
    )
    clock.advance(minutes=15)
    with pytest.raises(ProblemError) as expired:
        decode_access_token(SETTINGS, signed.token)
    assert expired.value.code == "TOKEN_EXPIRED"


def test_token_types_do_not_cross(clock: FrozenClock) -> None:
    guest = issue_guest_token(SETTINGS, session_id="S", tenant_id="T", outlet_id="O").token
    member = issue_guest_token(
        SETTINGS, session_id="S", tenant_id="T", outlet_id="O", member_id="M"
    ).token
    device = issue_device_token(
        SETTINGS, device_id="D", tenant_id="T", outlet_id="O", scopes=["kds.read"]
    ).token
    provider = issue_provider_token(SETTINGS, admin_id="P", ttl=timedelta(minutes=5)).token

    assert decode_guest_token(SETTINGS, guest).member_id is None
    assert decode_guest_token(SETTINGS, member).member_id == "M"
    assert decode_device_token(SETTINGS, device).scopes == {"kds.read"}
    assert decode_provider_token(SETTINGS, provider).admin_id == "P"
    for token in (guest, member, device, provider):
        with pytest.raises(ProblemError) as refused:
            decode_access_token(SETTINGS, token)
        assert refused.value.status == 401
    with pytest.raises(ProblemError):
        decode_device_token(SETTINGS, provider)


def test_tampered_token_is_refused(clock: FrozenClock) -> None:
    token = issue_provider_token(SETTINGS, admin_id="P", ttl=timedelta(minutes=5)).token
    header, payload, signature = token.split(".")
    forged = jwt.encode(
        {"sub": "P", "type": "provider", "iss": "servio", "iat": 1, "exp": 4_000_000_000},
        "a-guessed-secret-that-is-long-enough-000",
        algorithm="HS256",
    )
    for bad in (f"{header}.{payload}.{signature[::-1]}", forged):
        with pytest.raises(ProblemError):
            decode_provider_token(SETTINGS, bad)


def test_a_remembered_token_proves_nothing_for_another_key_or_a_tampered_copy(
    clock: FrozenClock,
) -> None:
    """Verified claims are memoized per (secret, token): decoding the genuine token first
    must not let a tampered copy through, nor the same token under a rotated secret, and a
    caller mutating what it got back must not change what the next caller sees."""
    token = issue_guest_token(SETTINGS, session_id="S", tenant_id="T", outlet_id="O").token
    assert decode_guest_token(SETTINGS, token).session_id == "S"
    header, payload, signature = token.split(".")
    with pytest.raises(ProblemError):
        decode_guest_token(SETTINGS, f"{header}.{payload}.{signature[::-1]}")
    rotated = Settings(secret_key="a-rotated-secret-0123456789abcdef0123", _env_file=None)
    with pytest.raises(ProblemError):
        decode_guest_token(rotated, token)
    decode_token(SETTINGS, token, types=("guest",))["sess"] = "someone else's"
    assert decode_guest_token(SETTINGS, token).session_id == "S"


def test_pin_lookup_is_keyed_and_outlet_bound() -> None:
    base = pin_lookup("k1", "OUTLET1", "1234")
    assert base == pin_lookup("k1", "OUTLET1", "1234")
    assert base != pin_lookup("k1", "OUTLET2", "1234")
    assert base != pin_lookup("k2", "OUTLET1", "1234")
    assert len(hash_refresh_token("abc")) == 64
