from __future__ import annotations

from typing import Any

import httpx
import pytest

from servio.kit.db import Database
from tests.conftest import problem
from tests.fixtures.auth import login_headers, make_staff, staff_headers
from tests.platform.conftest import World, add_outlet

pytestmark = pytest.mark.backends


async def test_tenant_and_outlets_of_the_caller(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, other: World
) -> None:
    r = await client.get("/api/v1/tenant", headers=world.headers)
    assert r.status_code == 200
    assert (r.json()["id"], r.json()["name"]) == (world.tenant.id, "Spice Route")

    branch = await add_outlet(db, world.tenant)
    first = await client.get("/api/v1/outlets?limit=1", headers=world.headers)
    assert first.status_code == 200
    page = first.json()
    assert [o["id"] for o in page["items"]] == [branch.id]
    assert page["next_cursor"]
    second = (
        await client.get(
            f"/api/v1/outlets?limit=1&cursor={page['next_cursor']}", headers=world.headers
        )
    ).json()
    assert [o["id"] for o in second["items"]] == [world.outlet.id]
    assert second["next_cursor"] is None

    r = await client.get(f"/api/v1/outlets/{world.outlet.id}", headers=world.headers)
    assert r.json()["name"] == "Spice Route Main"
    assert r.headers["etag"] == '"1"'


async def test_patch_outlet_validates_and_bumps_the_version(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/v1/outlets/{world.outlet.id}"
    body = {
        "name": "Spice Route Indiranagar",
        "timezone": "Asia/Dubai",
        "currency": "AED",
        "locale": "en-IN",
        "address": "12 Main Rd",
        "business_hours": {
            "sun": [["18:00", "23:30"]],
            "mon": [["18:00", "02:00"], ["11:00", "15:00"]],
        },
        "holidays": ["2026-12-25", "2026-01-26", "2026-12-25"],
    }
    r = await client.patch(url, headers={**world.headers, "If-Match": '"1"'}, json=body)
    assert r.status_code == 200, r.text
    outlet = r.json()
    assert outlet["version"] == 2
    assert r.headers["etag"] == '"2"'
    assert (outlet["timezone"], outlet["currency"], outlet["locale"]) == (
        "Asia/Dubai",
        "AED",
        "en-IN",
    )
    assert list(outlet["business_hours"]) == ["mon", "sun"]  # normalised to week order
    assert outlet["business_hours"]["mon"] == [["11:00", "15:00"], ["18:00", "02:00"]]
    assert outlet["holidays"] == ["2026-01-26", "2026-12-25"]

    stale = await client.patch(
        url, headers={**world.headers, "If-Match": "1"}, json={"name": "Lost update"}
    )
    assert (stale.status_code, problem(stale)["code"]) == (412, "VERSION_MISMATCH")
    assert (await client.get(url, headers=world.headers)).json()[
        "name"
    ] == "Spice Route Indiranagar"

    audit = (
        await client.get(
            f"/api/v1/audit?action=outlet.updated&subject_id={world.outlet.id}",
            headers=world.headers,
        )
    ).json()["items"]
    assert len(audit) == 1
    assert audit[0]["before"]["timezone"] == "Asia/Kolkata"
    assert audit[0]["after"]["timezone"] == "Asia/Dubai"
    assert audit[0]["before"]["name"] == "Spice Route Main"


@pytest.mark.parametrize(
    "patch",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"currency": "XYZ"},
        {"currency": "inr"},
        {"locale": "english"},
        {"name": ""},
        {"business_hours": {"mon": [["09:00", "17:00"], ["16:00", "20:00"]]}},
        {"business_hours": {"funday": [["09:00", "17:00"]]}},
        {"business_hours": {"mon": [["9am", "5pm"]]}},
        {"holidays": ["25/12/2026"]},
        {"tenant_id": "01JDFAKE000000000000000000"},
        {"version": 99},
    ],
)
async def test_patch_outlet_rejects_invalid_fields(
    backend: str, client: httpx.AsyncClient, world: World, patch: dict[str, Any]
) -> None:
    r = await client.patch(f"/api/v1/outlets/{world.outlet.id}", headers=world.headers, json=patch)
    assert r.status_code == 422, r.text
    assert problem(r)["code"] == "VALIDATION_ERROR"


async def test_outlet_bound_staff_see_only_their_outlets(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    branch = await add_outlet(db, world.tenant)
    manager = await make_staff(db, world.tenant, world.outlet, roles=["manager"])
    headers = await staff_headers(db, manager, outlet_id=world.outlet.id)
    listed = (await client.get("/api/v1/outlets", headers=headers)).json()["items"]
    assert [o["id"] for o in listed] == [world.outlet.id]
    assert (await client.get(f"/api/v1/outlets/{branch.id}", headers=headers)).status_code == 404
    r = await client.patch(f"/api/v1/outlets/{branch.id}", headers=headers, json={"name": "X"})
    assert r.status_code == 404
    owner_sees = (await client.get("/api/v1/outlets", headers=world.headers)).json()["items"]
    assert {o["id"] for o in owner_sees} == {world.outlet.id, branch.id}


async def test_provider_creates_a_tenant_whose_owner_can_log_in(
    backend: str, client: httpx.AsyncClient, provider_headers: dict[str, str]
) -> None:
    body = {
        "name": "Café Ümit & Sons",
        "plan": "growth",
        "outlet": {"name": "Ümit Koramangala", "timezone": "Asia/Kolkata"},
        "owner": {"name": "Ümit", "email": "Umit@Example.com", "password": "a-long-owner-password"},
    }
    r = await client.post("/api/v1/provider/tenants", headers=provider_headers, json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["tenant"]["slug"] == "cafe-umit-sons"
    assert made["tenant"]["plan"] == "growth"

    owner = await login_headers(client, "umit@example.com", "a-long-owner-password")
    tenant = (await client.get("/api/v1/tenant", headers=owner)).json()
    assert tenant["id"] == made["tenant"]["id"]
    outlets = (await client.get("/api/v1/outlets", headers=owner)).json()["items"]
    assert [o["id"] for o in outlets] == [made["outlet"]["id"]]
    audit = (await client.get("/api/v1/audit?action=tenant.created", headers=owner)).json()
    entry = audit["items"][0]
    assert entry["actor_type"] == "provider"
    assert entry["after"]["owner_id"] == made["owner_id"]
    assert "a-long-owner-password" not in str(audit)

    again = await client.post(
        "/api/v1/provider/tenants",
        headers=provider_headers,
        json={**body, "owner": {**body["owner"], "email": "x@y.example"}},
    )
    assert (again.status_code, problem(again)["code"]) == (409, "SLUG_TAKEN")
    clash = await client.post(
        "/api/v1/provider/tenants", headers=provider_headers, json={**body, "slug": "umit-2"}
    )
    assert (clash.status_code, problem(clash)["code"]) == (409, "EMAIL_TAKEN")

    listed = (await client.get("/api/v1/provider/tenants", headers=provider_headers)).json()
    assert [t["slug"] for t in listed["items"]] == ["cafe-umit-sons"]


async def test_provider_schedules_maintenance(
    backend: str, client: httpx.AsyncClient, provider_headers: dict[str, str], world: World
) -> None:
    url = f"/api/v1/provider/tenants/{world.tenant.id}/maintenance"
    r = await client.put(url, headers=provider_headers, json={"until": "2026-11-23T02:00:00Z"})
    assert r.status_code == 200, r.text
    assert r.json()["maintenance_until"].startswith("2026-11-23T02:00:00")
    naive = await client.put(url, headers=provider_headers, json={"until": "2026-11-23T02:00"})
    assert naive.status_code == 422
    r = await client.put(url, headers=provider_headers, json={"until": None})
    assert r.json()["maintenance_until"] is None
    missing = await client.put(
        "/api/v1/provider/tenants/01JDNOPE000000000000000000/maintenance",
        headers=provider_headers,
        json={"until": None},
    )
    assert missing.status_code == 404
    audit = (
        await client.get("/api/v1/audit?action=tenant.maintenance_scheduled", headers=world.headers)
    ).json()["items"]
    assert [e["after"]["maintenance_until"] for e in audit] == [None, "2026-11-23T02:00:00Z"]


async def test_staff_tokens_cannot_call_provider_routes(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get("/api/v1/provider/tenants", headers=world.headers)
    assert r.status_code in (401, 403)
    r = await client.put(
        f"/api/v1/provider/tenants/{world.tenant.id}/maintenance",
        headers=world.headers,
        json={"until": None},
    )
    assert r.status_code in (401, 403)
