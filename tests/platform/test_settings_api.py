from __future__ import annotations

from typing import Any

import httpx
import pytest

from servio.kit.db import Database
from servio.platform.service import get_effective_settings
from servio.platform.settings_catalog import CATALOG
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.platform.conftest import World, add_outlet

pytestmark = pytest.mark.backends


def _item(view: dict[str, Any], key: str) -> dict[str, Any]:
    return next(i for i in view["items"] if i["key"] == key)


async def _view(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/v1/settings", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_defaults_come_from_the_catalogue(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    view = await _view(client, world.headers)
    assert view["tenant_id"] == world.tenant.id
    assert view["outlet_id"] == world.outlet.id
    assert {i["key"] for i in view["items"]} == set(CATALOG)
    sla = _item(view, "kds_sla_secs")
    assert (sla["value"], sla["source"], sla["type"], sla["version"]) == (900, "default", "int", 0)
    assert _item(view, "auto_close_idle_mins")["value"] == 90
    assert _item(view, "daily_pass_required")["value"] is False
    assert _item(view, "service_charge_pct")["value"] == "0"
    assert _item(view, "language")["value"] == "en"


async def test_outlet_override_beats_tenant_default_beats_catalogue(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    before = await _view(client, world.headers)
    r = await client.put(
        "/api/v1/settings/kds_sla_secs",
        headers=world.headers,
        json={"value": 600, "scope": "tenant"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["value"], r.json()["source"]) == (600, "tenant")

    r = await client.put(
        "/api/v1/settings/kds_sla_secs",
        headers=world.headers,
        json={"value": 300, "scope": "outlet"},
    )
    assert (r.json()["value"], r.json()["source"]) == (300, "outlet")
    assert r.json()["versions"] == {"tenant": 1, "outlet": 1}

    view = await _view(client, world.headers)
    assert view["version"] != before["version"]
    assert (_item(view, "kds_sla_secs")["value"], _item(view, "kds_sla_secs")["source"]) == (
        300,
        "outlet",
    )

    # Another outlet of the same tenant gets the tenant default, not this outlet's override.
    branch = await add_outlet(db, world.tenant)
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        here = await get_effective_settings(uow, world.tenant.id, world.outlet.id)
        there = await get_effective_settings(uow, world.tenant.id, branch.id)
        tenant_wide = await get_effective_settings(uow, world.tenant.id, None)
    assert (here["kds_sla_secs"], there["kds_sla_secs"], tenant_wide["kds_sla_secs"]) == (
        300,
        600,
        600,
    )
    assert here["auto_close_idle_mins"] == 90

    r = await client.delete("/api/v1/settings/kds_sla_secs?scope=outlet", headers=world.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["value"], r.json()["source"]) == (600, "tenant")
    r = await client.delete("/api/v1/settings/kds_sla_secs?scope=outlet", headers=world.headers)
    assert problem(r)["code"] == "NOT_FOUND"


async def test_if_match_refuses_a_stale_version(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    url = "/api/v1/settings/receipt_footer"
    first = await client.put(
        url,
        headers={**world.headers, "If-Match": '"0"'},
        json={"value": "Thank you!", "scope": "outlet"},
    )
    assert first.status_code == 200
    assert first.json()["version"] == 1

    # A second editor who still saw "no override" (version 0) is refused, not merged.
    stale = await client.put(
        url,
        headers={**world.headers, "If-Match": "0"},
        json={"value": "Visit again", "scope": "outlet"},
    )
    assert stale.status_code == 412
    body = problem(stale)
    assert body["code"] == "VERSION_MISMATCH"
    assert body["current_version"] == 1
    assert _item(await _view(client, world.headers), "receipt_footer")["value"] == "Thank you!"

    fresh = await client.put(
        url,
        headers={**world.headers, "If-Match": 'W/"1"'},
        json={"value": "Visit again", "scope": "outlet"},
    )
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 2
    gone = await client.delete(f"{url}?scope=outlet", headers={**world.headers, "If-Match": "1"})
    assert problem(gone)["code"] == "VERSION_MISMATCH"
    bad = await client.put(
        url,
        headers={**world.headers, "If-Match": "yesterday"},
        json={"value": "x", "scope": "outlet"},
    )
    assert (bad.status_code, problem(bad)["code"]) == (400, "INVALID_IF_MATCH")


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("no_such_setting", 1, "UNKNOWN_SETTING"),
        ("kds_sla_secs", "900", "VALIDATION_ERROR"),
        ("kds_sla_secs", 5, "VALIDATION_ERROR"),
        ("kds_sla_secs", True, "VALIDATION_ERROR"),
        ("daily_pass_required", 1, "VALIDATION_ERROR"),
        ("service_charge_pct", 5, "VALIDATION_ERROR"),
        ("service_charge_pct", "150", "VALIDATION_ERROR"),
        ("service_charge_pct", "NaN", "VALIDATION_ERROR"),
        ("language", "English", "VALIDATION_ERROR"),
        ("kot_paper_size", "letter", "VALIDATION_ERROR"),
    ],
)
async def test_values_are_checked_against_the_catalogue(
    backend: str, client: httpx.AsyncClient, world: World, key: str, value: Any, code: str
) -> None:
    r = await client.put(
        f"/api/v1/settings/{key}", headers=world.headers, json={"value": value, "scope": "tenant"}
    )
    assert r.status_code == 422
    assert problem(r)["code"] == code


async def test_decimals_are_normalised_strings(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    r = await client.put(
        "/api/v1/settings/service_charge_pct",
        headers=world.headers,
        json={"value": "12.50", "scope": "tenant"},
    )
    assert r.json()["value"] == "12.5"


async def test_floor_staff_cannot_read_or_change_settings(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    waiter = await make_staff(db, world.tenant, world.outlet, roles=["waiter"])
    headers = await staff_headers(db, waiter, outlet_id=world.outlet.id)
    assert (await client.get("/api/v1/settings", headers=headers)).status_code == 403
    r = await client.put(
        "/api/v1/settings/kds_sla_secs", headers=headers, json={"value": 600, "scope": "outlet"}
    )
    assert r.status_code == 403
    assert (await client.get("/api/v1/settings")).status_code == 401


async def test_changes_are_audited_with_before_and_after(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    for value in (600, 700):
        await client.put(
            "/api/v1/settings/kds_sla_secs",
            headers=world.headers,
            json={"value": value, "scope": "outlet"},
        )
    await client.delete("/api/v1/settings/kds_sla_secs", headers=world.headers)
    r = await client.get(
        "/api/v1/audit?action=settings.changed&subject_id=kds_sla_secs", headers=world.headers
    )
    entries = r.json()["items"]
    assert [(e["before"], e["after"]) for e in entries] == [
        ({"scope": "outlet", "value": 700, "version": 2}, None),
        (
            {"scope": "outlet", "value": 600, "version": 1},
            {"scope": "outlet", "value": 700, "version": 2},
        ),
        (None, {"scope": "outlet", "value": 600, "version": 1}),
    ]
    assert all(
        e["actor_id"] == world.owner.id and e["outlet_id"] == world.outlet.id for e in entries
    )


async def test_another_tenants_settings_never_leak(
    backend: str, client: httpx.AsyncClient, world: World, other: World
) -> None:
    await client.put(
        "/api/v1/settings/receipt_footer",
        headers=other.headers,
        json={"value": "Rival secret footer", "scope": "tenant"},
    )
    await client.put(
        "/api/v1/settings/kds_sla_secs",
        headers=other.headers,
        json={"value": 120, "scope": "outlet"},
    )
    view = await _view(client, world.headers)
    assert _item(view, "receipt_footer")["source"] == "default"
    assert _item(view, "kds_sla_secs")["value"] == 900
    assert "Rival" not in str(view)
    # The same key written by `world` is its own row, at version 1.
    r = await client.put(
        "/api/v1/settings/receipt_footer",
        headers={**world.headers, "If-Match": "0"},
        json={"value": "Ours", "scope": "tenant"},
    )
    assert r.status_code == 200
    assert r.json()["version"] == 1
