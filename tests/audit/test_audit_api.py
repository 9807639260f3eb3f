from __future__ import annotations

import httpx
import pytest

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.platform.conftest import World

pytestmark = pytest.mark.backends


def _actor(world: World) -> StaffActor:
    return StaffActor(
        user_id=world.owner.id,
        tenant_id=world.tenant.id,
        outlet_id=world.outlet.id,
        roles=("owner",),
        permissions=frozenset(),
        session_id="s",
    )


async def _record(
    db: Database, world: World, n: int, clock: FrozenClock, action: str = "order.placed"
) -> None:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        for i in range(n):
            clock.advance(seconds=1)
            await audit.record(
                uow,
                _actor(world),
                action,
                subject_type="order",
                subject_id=f"order-{i}",
                after={"n": i, "otp": "123456"},
            )


async def test_audit_log_pages_newest_first_with_filters(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    world: World,
    other: World,
) -> None:
    await _record(db, world, 5, clock)
    await _record(db, world, 1, clock, action="payment.verified")
    await _record(db, other, 3, clock)

    seen: list[str] = []
    url = "/api/v1/audit?action=order.placed&limit=2"
    while url:
        r = await client.get(url, headers=world.headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [e["subject_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        url = f"/api/v1/audit?action=order.placed&limit=2&cursor={cursor}" if cursor else ""
    assert seen == [f"order-{i}" for i in (4, 3, 2, 1, 0)]

    one = (await client.get("/api/v1/audit?subject_id=order-2", headers=world.headers)).json()[
        "items"
    ]
    assert len(one) == 1
    assert one[0]["after"] == {"n": 2, "otp": "[redacted]"}
    assert one[0]["actor_type"] == "staff"
    assert one[0]["actor_id"] == world.owner.id

    everything = (await client.get("/api/v1/audit", headers=world.headers)).json()["items"]
    assert sum(e["action"] == "order.placed" for e in everything) == 5
    assert [e for e in everything if e["actor_id"] == other.owner.id] == []


async def test_audit_log_needs_the_audit_permission(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    cashier = await make_staff(db, world.tenant, world.outlet, roles=["cashier"])
    headers = await staff_headers(db, cashier, outlet_id=world.outlet.id)
    assert (await client.get("/api/v1/audit", headers=headers)).status_code == 403
    bad = await client.get("/api/v1/audit?cursor=garbage", headers=world.headers)
    assert (bad.status_code, problem(bad)["code"]) == (422, "INVALID_CURSOR")
    big = await client.get("/api/v1/audit?limit=500", headers=world.headers)
    assert big.status_code == 422


async def test_there_is_no_route_that_changes_the_audit_log(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        r = await client.request(method, "/api/v1/audit", headers=world.headers)
        assert r.status_code == 405, method
