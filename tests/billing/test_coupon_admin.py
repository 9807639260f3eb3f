"""The coupon admin API as an owner, a manager, a waiter and a cook use it: CRUD, field
validation, If-Match, deactivation that keeps history, audit, and isolation between
outlets and tenants."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from servio.kit.db import Database
from servio.models import AuditLog, Outlet
from tests.conftest import problem
from tests.fixtures.auth import staff_headers
from tests.fixtures.outlet import OwnedOutlet, owned_outlet_fixture

pytestmark = pytest.mark.backends

API = "/api/v1/coupons"
WELCOME: dict[str, Any] = {
    "code": " welcome10 ",
    "name": "Welcome",
    "kind": "percent",
    "percent": "10.00",
    "max_discount": 10000,
    "cap_per_guest": 1,
}

world = owned_outlet_fixture("world", "Spice Route")
rival = owned_outlet_fixture("rival", "Rival Diner")


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    r = await client.post(API, headers=headers, json={**WELCOME, **body})
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_coupon_crud_with_versions_and_audit(
    client: httpx.AsyncClient, world: OwnedOutlet, db: Database
) -> None:
    h = world.headers
    r = await client.post(API, headers=h, json=WELCOME)
    assert r.status_code == 201, r.text
    coupon = r.json()
    assert r.headers["etag"] == '"1"'
    assert coupon["code"] == "WELCOME10"  # trimmed and upper-cased
    assert coupon["percent"] == "10"  # canonical rate
    assert (coupon["kind"], coupon["max_discount"], coupon["stackable"]) == (
        "percent",
        10000,
        False,
    )
    assert coupon["outlet_id"] == world.outlet.id  # left out: the caller's outlet
    assert coupon["usage"] == {"total": 0, "today": 0}
    assert (coupon["is_active"], coupon["version"]) == (True, 1)

    got = await client.get(f"{API}/{coupon['id']}", headers=h)
    assert got.status_code == 200
    assert got.json()["code"] == "WELCOME10"
    assert got.headers["etag"] == '"1"'

    r = await client.patch(
        f"{API}/{coupon['id']}",
        headers={**h, "If-Match": '"1"'},
        json={"max_discount": 15000, "cap_per_day": 50},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["max_discount"], r.json()["cap_per_day"], r.json()["version"]) == (
        15000,
        50,
        2,
    )
    assert r.headers["etag"] == '"2"'

    stale = await client.patch(
        f"{API}/{coupon['id']}", headers={**h, "If-Match": '"1"'}, json={"name": "Hello"}
    )
    assert stale.status_code == 412
    body = problem(stale)
    assert body["code"] == "VERSION_MISMATCH"
    assert body["current_version"] == 2

    # Switching to flat drops the percent unless it is sent.
    r = await client.patch(
        f"{API}/{coupon['id']}", headers=h, json={"kind": "flat", "amount": 5000}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["kind"], r.json()["amount"], r.json()["percent"]) == ("flat", 5000, None)

    r = await client.delete(f"{API}/{coupon['id']}", headers={**h, "If-Match": '"3"'})
    assert r.status_code == 200, r.text
    assert (r.json()["is_active"], r.json()["version"]) == (False, 4)
    # Kept for history: still readable, listed only when asking for inactive ones.
    assert (await client.get(f"{API}/{coupon['id']}", headers=h)).json()["is_active"] is False
    active = (await client.get(f"{API}?active=true", headers=h)).json()
    assert active["items"] == []
    inactive = (await client.get(f"{API}?active=false", headers=h)).json()
    assert [c["id"] for c in inactive["items"]] == [coupon["id"]]

    async with db.unit_of_work(bypass_rls=True) as uow:
        entries = (
            (
                await uow.session.execute(
                    select(AuditLog)
                    .where(AuditLog.subject_id == coupon["id"])
                    .order_by(AuditLog.at, AuditLog.id)
                )
            )
            .scalars()
            .all()
        )
    assert [e.action for e in entries] == ["coupon.changed"] * 4
    assert entries[0].after is not None
    assert entries[0].after["code"] == "WELCOME10"
    assert entries[1].before == {"max_discount": 10000, "cap_per_day": None}
    assert entries[-1].after == {"is_active": False}


async def test_list_filters_by_code_prefix_and_state(
    client: httpx.AsyncClient, world: OwnedOutlet
) -> None:
    h = world.headers
    first = await _create(client, h, code="DIWALI-50", kind="flat", percent=None, amount=5000)
    second = await _create(client, h, code="DIWALI_20")
    await _create(client, h, code="LUNCH")
    listed = (await client.get(f"{API}?code=diwali", headers=h)).json()
    assert {c["id"] for c in listed["items"]} == {first["id"], second["id"]}
    page = (await client.get(f"{API}?limit=2", headers=h)).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = (await client.get(f"{API}?limit=2&cursor={page['next_cursor']}", headers=h)).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "AB"}, "code"),
        ({"code": "HAS SPACE"}, "code"),
        ({"code": "X" * 41}, "code"),
        ({"percent": "0"}, "percent"),
        ({"percent": "100.5"}, "percent"),
        ({"percent": "ten"}, "percent"),
        ({"percent": 10.5}, "percent"),
        ({"kind": "flat", "percent": None}, None),  # flat without amount
        ({"kind": "flat", "percent": None, "amount": 0}, None),
        ({"amount": 500}, None),  # percent coupon with an amount
        ({"max_discount": -1}, "max_discount"),
        ({"cap_per_day": 0}, "cap_per_day"),
        ({"valid_from": "2026-12-01T00:00:00Z", "valid_to": "2026-11-30T00:00:00Z"}, None),
        ({"valid_from": "2026-12-01T00:00:00"}, "valid_from"),  # no offset
        ({"surprise": True}, "surprise"),
    ],
)
async def test_invalid_coupons_are_refused_with_the_field(
    client: httpx.AsyncClient, world: OwnedOutlet, body: dict[str, Any], field: str | None
) -> None:
    r = await client.post(API, headers=world.headers, json={**WELCOME, **body})
    assert r.status_code == 422, r.text
    refused = problem(r)
    assert refused["code"] == "VALIDATION_ERROR"
    if field is not None:
        assert any(field in e["loc"] for e in refused["errors"]), refused


async def test_codes_are_unique_per_tenant_but_not_across_tenants(
    client: httpx.AsyncClient, world: OwnedOutlet, rival: OwnedOutlet
) -> None:
    ours = await _create(client, world.headers)
    again = await client.post(API, headers=world.headers, json={**WELCOME, "code": "Welcome10"})
    assert again.status_code == 409
    assert problem(again)["code"] == "COUPON_CODE_TAKEN"
    theirs = await _create(client, rival.headers)  # same code, another tenant
    assert theirs["code"] == ours["code"]
    assert theirs["id"] != ours["id"]

    # Renaming onto a taken code is refused too, and the transaction stays usable.
    other = await _create(client, world.headers, code="OTHER")
    r = await client.patch(
        f"{API}/{other['id']}", headers=world.headers, json={"code": "welcome10"}
    )
    assert r.status_code == 409
    assert problem(r)["code"] == "COUPON_CODE_TAKEN"

    # Another tenant's coupon does not exist for us.
    for method in ("GET", "PATCH", "DELETE"):
        r = await client.request(
            method,
            f"{API}/{theirs['id']}",
            headers=world.headers,
            json={"name": "x"} if method == "PATCH" else None,
        )
        assert r.status_code == 404, (method, r.text)
        assert problem(r)["code"] == "NOT_FOUND"
    listed = (await client.get(API, headers=world.headers)).json()
    assert {c["id"] for c in listed["items"]} == {ours["id"], other["id"]}


async def test_a_patch_is_validated_against_the_stored_coupon(
    client: httpx.AsyncClient, world: OwnedOutlet
) -> None:
    coupon = await _create(
        client, world.headers, valid_from="2026-12-01T00:00:00Z", valid_to="2026-12-31T00:00:00Z"
    )
    r = await client.patch(
        f"{API}/{coupon['id']}", headers=world.headers, json={"valid_to": "2026-11-01T00:00:00Z"}
    )
    assert r.status_code == 422
    assert "valid_to must be after valid_from" in str(problem(r)["errors"])
    r = await client.patch(f"{API}/{coupon['id']}", headers=world.headers, json={"code": None})
    assert r.status_code == 422


async def test_roles_outlets_and_tenant_wide_coupons(
    client: httpx.AsyncClient, world: OwnedOutlet, db: Database
) -> None:
    waiter = await world.as_role(db, "waiter")
    manager = await world.as_role(db, "manager")
    cook = await world.as_role(db, "kitchen")

    ours = await _create(client, manager)  # managers manage their outlet's coupons
    assert ours["outlet_id"] == world.outlet.id
    # Waiters see coupons (billing.read) but cannot change them; cooks do not see them.
    assert (await client.get(API, headers=waiter)).status_code == 200
    r = await client.post(API, headers=waiter, json={**WELCOME, "code": "NOPE"})
    assert r.status_code == 403
    assert (await client.get(API, headers=cook)).status_code == 403

    # Tenant-wide coupons: owners and admins only.
    r = await client.post(API, headers=manager, json={**WELCOME, "code": "ALL", "outlet_id": None})
    assert r.status_code == 403
    assert problem(r)["code"] == "TENANT_WIDE_FORBIDDEN"
    everywhere = await _create(client, world.headers, code="ALL", outlet_id=None)
    assert everywhere["outlet_id"] is None
    r = await client.patch(f"{API}/{everywhere['id']}", headers=manager, json={"name": "x"})
    assert r.status_code == 403

    # Another outlet of the tenant: sees the tenant-wide coupon, not the first outlet's.
    async with db.unit_of_work(bypass_rls=True) as uow:
        second = Outlet(tenant_id=world.tenant.id, name="Spice Route Airport")
        uow.session.add(second)
        await uow.session.flush()
        second_id = second.id
    elsewhere = await staff_headers(db, world.owner, outlet_id=second_id)
    listed = (await client.get(API, headers=elsewhere)).json()
    assert [c["code"] for c in listed["items"]] == ["ALL"]
    assert (await client.get(f"{API}/{ours['id']}", headers=elsewhere)).status_code == 404
    r = await client.post(API, headers=world.headers, json={**WELCOME, "outlet_id": second_id})
    assert r.status_code == 422
    assert problem(r)["code"] == "INVALID_OUTLET"
