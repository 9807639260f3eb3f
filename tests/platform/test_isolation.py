"""Tenant isolation across every tenancy, settings, flags and audit route: another
tenant's ids answer 404, and its data never appears in lists or merged views."""

from __future__ import annotations

import httpx
import pytest

from servio.kit.db import Database
from tests.conftest import problem
from tests.platform.conftest import World

pytestmark = pytest.mark.backends


async def test_another_tenants_outlet_is_not_found_on_every_route(
    backend: str, client: httpx.AsyncClient, world: World, other: World
) -> None:
    foreign = other.outlet.id
    calls = [
        client.get(f"/api/v1/outlets/{foreign}", headers=world.headers),
        client.patch(
            f"/api/v1/outlets/{foreign}", headers=world.headers, json={"name": "Hijacked"}
        ),
        client.patch(
            f"/api/v1/outlets/{foreign}",
            headers={**world.headers, "If-Match": "1"},
            json={"timezone": "UTC"},
        ),
    ]
    for call in calls:
        r = await call
        assert r.status_code == 404, r.text
        assert problem(r)["code"] == "NOT_FOUND"
    own = await client.get(f"/api/v1/outlets/{other.outlet.id}", headers=other.headers)
    assert own.json()["name"] == "Rival Diner Main"  # untouched


async def test_outlet_header_of_another_tenant_is_refused(
    backend: str, client: httpx.AsyncClient, world: World, other: World
) -> None:
    # Selecting a foreign outlet cannot be used to write its overrides.
    headers = {**world.headers, "X-Outlet-ID": other.outlet.id}
    r = await client.put(
        "/api/v1/settings/kds_sla_secs", headers=headers, json={"value": 61, "scope": "outlet"}
    )
    assert r.status_code in (403, 404)
    r = await client.put(
        "/api/v1/flags/FLAG_HAPPY_HOUR", headers=headers, json={"enabled": True, "scope": "outlet"}
    )
    assert r.status_code in (403, 404)
    view = (await client.get("/api/v1/settings", headers=other.headers)).json()
    assert next(i for i in view["items"] if i["key"] == "kds_sla_secs")["value"] == 900


async def test_lists_and_views_hold_only_the_callers_tenant(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, other: World
) -> None:
    await client.patch(
        f"/api/v1/outlets/{other.outlet.id}",
        headers=other.headers,
        json={"address": "1 Rival Street"},
    )
    await client.put(
        "/api/v1/settings/receipt_footer",
        headers=other.headers,
        json={"value": "rival", "scope": "outlet"},
    )
    await client.put(
        "/api/v1/flags/LOYALTY", headers=other.headers, json={"enabled": True, "scope": "tenant"}
    )

    outlets = (await client.get("/api/v1/outlets", headers=world.headers)).json()["items"]
    assert [o["id"] for o in outlets] == [world.outlet.id]
    tenant = (await client.get("/api/v1/tenant", headers=world.headers)).json()
    assert tenant["id"] == world.tenant.id

    audit = (await client.get("/api/v1/audit", headers=world.headers)).json()["items"]
    assert all(e["subject_id"] != other.outlet.id for e in audit)
    assert "rival" not in str(audit).lower()
    for query in (
        f"subject_id={other.outlet.id}",
        "action=flag.changed",
        "subject_id=receipt_footer",
    ):
        r = await client.get(f"/api/v1/audit?{query}", headers=world.headers)
        assert r.json()["items"] == [], query
    theirs = (await client.get("/api/v1/audit", headers=other.headers)).json()["items"]
    assert {e["action"] for e in theirs} >= {"outlet.updated", "settings.changed", "flag.changed"}
