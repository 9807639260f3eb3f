from __future__ import annotations

from typing import Any

import httpx
import pytest

from servio.kit.db import Database
from servio.platform.flags import DAILY_PASS, FLAG_HAPPY_HOUR, FLAGS, QR_ORDERING
from servio.platform.service import is_enabled
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.platform.conftest import World, add_outlet

pytestmark = pytest.mark.backends


def _flag(view: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in view["items"] if f["name"] == name)


async def test_flag_view_starts_from_the_catalogue_defaults(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    r = await client.get("/api/v1/flags", headers=world.headers)
    assert r.status_code == 200
    view = r.json()
    assert {f["name"] for f in view["items"]} == set(FLAGS)
    assert _flag(view, QR_ORDERING) == {
        "name": QR_ORDERING,
        "enabled": True,
        "source": "default",
        "default": True,
        "description": FLAGS[QR_ORDERING].description,
    }
    assert _flag(view, FLAG_HAPPY_HOUR)["enabled"] is False


async def test_outlet_flag_beats_tenant_flag_beats_default(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    url = f"/api/v1/flags/{FLAG_HAPPY_HOUR}"
    r = await client.put(url, headers=world.headers, json={"enabled": True, "scope": "tenant"})
    assert r.status_code == 200
    assert r.json()["source"] == "tenant"
    assert r.json()["enabled"]
    r = await client.put(url, headers=world.headers, json={"enabled": False, "scope": "outlet"})
    assert (r.json()["enabled"], r.json()["source"]) == (False, "outlet")
    # Writing the same scope twice updates the one row (no duplicate tenant row either).
    await client.put(url, headers=world.headers, json={"enabled": True, "scope": "tenant"})

    branch = await add_outlet(db, world.tenant)
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        assert await is_enabled(uow, world.tenant.id, world.outlet.id, FLAG_HAPPY_HOUR) is False
        assert await is_enabled(uow, world.tenant.id, branch.id, FLAG_HAPPY_HOUR) is True
        assert await is_enabled(uow, world.tenant.id, None, FLAG_HAPPY_HOUR) is True
        assert await is_enabled(uow, world.tenant.id, branch.id, DAILY_PASS) is False
        with pytest.raises(ValueError, match="unknown feature flag"):
            await is_enabled(uow, world.tenant.id, None, "FLAG_TYPO")

    r = await client.delete(f"{url}?scope=outlet", headers=world.headers)
    assert (r.json()["enabled"], r.json()["source"]) == (True, "tenant")
    assert (
        problem(await client.delete(f"{url}?scope=outlet", headers=world.headers))["code"]
        == "NOT_FOUND"
    )

    audit = (
        await client.get(
            f"/api/v1/audit?action=flag.changed&subject_id={FLAG_HAPPY_HOUR}", headers=world.headers
        )
    ).json()["items"]
    assert audit[-1]["before"] == {"scope": "tenant", "enabled": False}
    assert audit[-1]["after"] == {"scope": "tenant", "enabled": True}
    assert len(audit) == 4


async def test_unknown_flag_is_422(backend: str, client: httpx.AsyncClient, world: World) -> None:
    r = await client.put(
        "/api/v1/flags/FLAG_NOPE", headers=world.headers, json={"enabled": True, "scope": "tenant"}
    )
    assert (r.status_code, problem(r)["code"]) == (422, "UNKNOWN_FLAG")


async def test_managers_see_flags_but_only_owners_and_admins_switch_them(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    manager = await make_staff(db, world.tenant, world.outlet, roles=["manager"])
    headers = await staff_headers(db, manager, outlet_id=world.outlet.id)
    assert (await client.get("/api/v1/flags", headers=headers)).status_code == 200
    r = await client.put(
        f"/api/v1/flags/{FLAG_HAPPY_HOUR}",
        headers=headers,
        json={"enabled": True, "scope": "outlet"},
    )
    assert r.status_code == 403


async def test_flags_of_another_tenant_do_not_apply(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, other: World
) -> None:
    await client.put(
        f"/api/v1/flags/{FLAG_HAPPY_HOUR}",
        headers=other.headers,
        json={"enabled": True, "scope": "tenant"},
    )
    view = (await client.get("/api/v1/flags", headers=world.headers)).json()
    assert _flag(view, FLAG_HAPPY_HOUR)["source"] == "default"
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        assert await is_enabled(uow, world.tenant.id, world.outlet.id, FLAG_HAPPY_HOUR) is False
