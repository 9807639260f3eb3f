"""Licence usage (SAAS-02) as the owner sees it, provider overrides, the N+1th table
refused, and invoice numbering settings (SETUP-05)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from servio.kit.db import Database
from servio.models import AuditLog, ServicePoint
from tests.conftest import problem
from tests.setup.conftest import World, start, step

pytestmark = pytest.mark.backends


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in body["items"]}


async def _usage(client: httpx.AsyncClient, world: World) -> dict[str, dict[str, Any]]:
    r = await client.get("/api/v1/limits/usage", headers=world.headers)
    assert r.status_code == 200, r.text
    return _by_name(r.json())


async def _table_count(db: Database, world: World) -> int:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        stmt = select(func.count()).select_from(ServicePoint).where(ServicePoint.kind == "table")
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_usage_counts_tables_against_the_plan(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    usage = await _usage(client, world)
    assert list(usage) == ["max_tables", "max_menu_items", "max_images_mb"]
    assert usage["max_tables"] == {"name": "max_tables", "used": 0, "limit": 15, "remaining": 15}
    assert usage["max_menu_items"]["limit"] == 150
    assert usage["max_images_mb"] == {
        "name": "max_images_mb",
        "used": 0,
        "limit": 100,
        "remaining": 100,
    }

    sid = (await start(client, world.headers))["id"]
    await step(client, world.headers, sid, "tables", {"count": 5})
    usage = await _usage(client, world)
    assert usage["max_tables"]["used"] == 5
    assert usage["max_tables"]["remaining"] == 10


async def test_provider_override_changes_the_limit_and_the_next_table_is_refused(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    world: World,
    provider_headers: dict[str, str],
) -> None:
    sid = (await start(client, world.headers))["id"]
    await step(client, world.headers, sid, "tables", {"count": 5})

    url = f"/api/v1/provider/tenants/{world.tenant.id}/limits"
    r = await client.put(url, headers=provider_headers, json={"max_tables": 6})
    assert r.status_code == 200, r.text
    assert r.json()["tenant_id"] == world.tenant.id
    assert r.json()["plan"] == "starter"
    assert _by_name(r.json())["max_tables"] == {
        "name": "max_tables",
        "used": 5,
        "limit": 6,
        "remaining": 1,
    }
    assert _by_name(r.json())["max_menu_items"]["limit"] == 150  # untouched

    # Three more tables would make 8 > 6: refused as a whole, nothing created.
    refused = await step(client, world.headers, sid, "tables", {"count": 8}, expect=403)
    assert refused["code"] == "FEATURE_LIMIT"
    assert "6 tables" in refused["detail"]
    assert refused["hint"]
    assert await _table_count(db, world) == 5
    ok = await step(client, world.headers, sid, "tables", {"count": 6})
    assert ok["data"]["tables"]["created"] == 1
    assert (await _usage(client, world))["max_tables"]["remaining"] == 0
    # The N+1th table is refused.
    r = await client.post(
        f"/api/v1/onboarding/{sid}/tables", headers=world.headers, json={"count": 7}
    )
    assert r.status_code == 403
    assert problem(r)["code"] == "FEATURE_LIMIT"

    # null returns the limit to the plan's default.
    r = await client.put(url, headers=provider_headers, json={"max_tables": None})
    assert _by_name(r.json())["max_tables"]["limit"] == 15
    got = await client.get(url, headers=provider_headers)
    assert got.status_code == 200
    assert _by_name(got.json())["max_tables"]["used"] == 6

    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        changes = (
            (
                await uow.session.execute(
                    select(AuditLog).where(AuditLog.action == "tenant.limits_changed")
                )
            )
            .scalars()
            .all()
        )
    assert [(c.before, c.after) for c in changes] == [
        ({"max_tables": None}, {"max_tables": 6}),
        ({"max_tables": 6}, {"max_tables": None}),
    ]


async def test_limit_overrides_are_for_the_provider_only(
    backend: str, client: httpx.AsyncClient, world: World, provider_headers: dict[str, str]
) -> None:
    url = f"/api/v1/provider/tenants/{world.tenant.id}/limits"
    r = await client.put(url, headers=world.headers, json={"max_tables": 500})
    assert r.status_code in (401, 403)
    r = await client.put(url, headers=provider_headers, json={"max_tables": -1})
    assert r.status_code == 422
    assert problem(r)["code"] == "VALIDATION_ERROR"
    r = await client.put(
        "/api/v1/provider/tenants/01JNOTATENANTXXXXXXXXXXXXX/limits",
        headers=provider_headers,
        json={"max_tables": 3},
    )
    assert r.status_code == 404


async def test_seed_usage_path_only_answers_for_the_callers_tenant(
    backend: str, client: httpx.AsyncClient, world: World, other: World
) -> None:
    for ref in (world.tenant.id, world.tenant.slug):
        r = await client.get(
            f"/api/outlet/{ref}/limits/usage",
            headers={**world.headers, "X-Tenant-ID": world.tenant.id},
        )
        assert r.status_code == 200, r.text
        assert r.json()["tenant_id"] == world.tenant.id
    for ref in (other.tenant.id, other.tenant.slug):
        r = await client.get(f"/api/outlet/{ref}/limits/usage", headers=world.headers)
        assert r.status_code == 404
        assert problem(r)["code"] == "NOT_FOUND"
    r = await client.get(
        f"/api/outlet/{world.tenant.slug}/limits/usage",
        headers={**world.headers, "X-Tenant-ID": other.tenant.id},
    )
    assert r.status_code == 404


# --- invoice numbering ------------------------------------------------------------------------


async def test_invoice_numbering_is_read_and_changed_with_versioning(
    backend: str, client: httpx.AsyncClient, world: World, other: World
) -> None:
    url = f"/api/v1/outlets/{world.outlet.id}/invoicing"
    got = await client.get(url, headers=world.headers)
    assert got.status_code == 200
    assert got.json()["prefix"] == "INV-"
    assert got.json()["reset"] == "financial_year"
    version = got.json()["version"]
    assert got.headers["ETag"] == f'"{version}"'

    r = await client.put(
        url,
        headers={**world.headers, "If-Match": f'"{version}"'},
        json={"prefix": "sr/bdr-", "reset": "monthly"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "outlet_id": world.outlet.id,
        "prefix": "SR/BDR-",
        "reset": "monthly",
        "version": version + 1,
    }
    stale = await client.put(
        url, headers={**world.headers, "If-Match": str(version)}, json={"prefix": "X"}
    )
    assert stale.status_code == 412
    assert problem(stale)["code"] == "VERSION_MISMATCH"

    for body in (
        {"prefix": "INV_#"},
        {"prefix": ""},
        {"prefix": "A" * 17},
        {"prefix": "INV-", "reset": "yearly"},
    ):
        r = await client.put(url, headers=world.headers, json=body)
        assert r.status_code == 422, body
    foreign = f"/api/v1/outlets/{other.outlet.id}/invoicing"
    assert (await client.get(foreign, headers=world.headers)).status_code == 404
    r = await client.put(foreign, headers=world.headers, json={"prefix": "HACK-"})
    assert r.status_code == 404


async def test_the_wizard_can_set_invoice_numbering_too(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    sid = (await start(client, world.headers))["id"]
    s = await step(
        client, world.headers, sid, "invoicing", {"prefix": "SR-", "reset": "calendar_year"}
    )
    assert s["completed_steps"] == ["invoicing"]
    assert s["next_step"] == "profile"
    got = await client.get(f"/api/v1/outlets/{world.outlet.id}/invoicing", headers=world.headers)
    assert (got.json()["prefix"], got.json()["reset"]) == ("SR-", "calendar_year")
