"""An outlet with an owner, a manager and two cashiers signed in, a "Front till" drawer,
and helpers for the cash API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from servio.kit.db import Database
from servio.models import Outlet, Tenant
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant


@dataclass
class Shop:
    tenant: Tenant
    outlet: Outlet
    owner: dict[str, str]
    manager: dict[str, str]
    cashier: dict[str, str]
    cashier2: dict[str, str]
    waiter: dict[str, str]
    ids: dict[str, str]  # role → staff id

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    @property
    def outlet_id(self) -> str:
        return self.outlet.id


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}


async def build_shop(db: Database, name: str = "Spice Route") -> Shop:
    tenant, outlet = await make_tenant(db, name=name)
    heads: dict[str, dict[str, str]] = {}
    ids: dict[str, str] = {}
    for label, role in (
        ("owner", "owner"),
        ("manager", "manager"),
        ("cashier", "cashier"),
        ("cashier2", "cashier"),
        ("waiter", "waiter"),
    ):
        user = await make_staff(db, tenant, outlet, roles=[role], pin=None)
        heads[label] = await staff_headers(db, user, outlet_id=outlet.id)
        ids[label] = user.id
    return Shop(tenant, outlet, ids=ids, **heads)


@pytest.fixture
async def shop(db: Database) -> Shop:
    return await build_shop(db)


async def create_drawer(
    client: httpx.AsyncClient, shop: Shop, name: str = "Front till"
) -> dict[str, Any]:
    response = await client.post("/api/v1/cash/drawers", json={"name": name}, headers=shop.manager)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_session(
    client: httpx.AsyncClient, headers: dict[str, str], drawer_id: str, opening_float: int
) -> httpx.Response:
    return await client.post(
        "/api/v1/cash/sessions",
        json={"drawer_id": drawer_id, "opening_float": opening_float},
        headers=keyed(headers),
    )


async def move(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    session_id: str,
    type_: str,
    amount: int,
    reason: str = "float top-up",
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/cash/sessions/{session_id}/movements",
        json={"type": type_, "amount": amount, "reason": reason, **extra},
        headers=keyed(headers),
    )


async def close(
    client: httpx.AsyncClient, headers: dict[str, str], session_id: str, counted: int, **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/cash/sessions/{session_id}/close",
        json={"counted": counted, **extra},
        headers=keyed(headers),
    )
