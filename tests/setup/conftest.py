"""Two tenants with an owner each, a provider operator, and small helpers for the wizard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from servio.auth import service as auth_service
from servio.kit.db import Database
from servio.models import Outlet, StaffUser, Tenant
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant

VALID_GSTIN = "27AAPFU0939F1ZV"  # Maharashtra (27)

PROFILE = {
    "name": "Spice Route Bandra",
    "address": "12 Hill Road, Bandra West, Mumbai 400050",
    "timezone": "Asia/Kolkata",
    "language": "hi",
}
TAX = {
    "gst_mode": "regular",
    "gstin": VALID_GSTIN,
    "state_code": "27",
    "prices_include_tax": False,
    "gst_rounding": "invoice_total",
    "rounding_mode": "half_up",
    "rounding": "nearest_1",
    "fssai_license": "11521999000123",
}
HOURS = {
    "business_hours": {"mon": [["18:00", "02:00"]], "sat": [["11:00", "23:30"]]},
    "holidays": ["2026-12-25", "2026-10-20"],
}
PAYMENTS = {"payment_modes": ["cash", "upi"], "upi_vpa": "SpiceRoute@okhdfc"}


@dataclass
class World:
    tenant: Tenant
    outlet: Outlet
    owner: StaffUser
    headers: dict[str, str]


async def make_world(db: Database, name: str) -> World:
    tenant, outlet = await make_tenant(db, name=name)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    return World(tenant, outlet, owner, await staff_headers(db, owner, outlet_id=outlet.id))


@pytest.fixture
async def world(db: Database) -> World:
    return await make_world(db, "Spice Route")


@pytest.fixture
async def other(db: Database) -> World:
    return await make_world(db, "Rival Diner")


@pytest.fixture
async def provider_headers(db: Database, client: httpx.AsyncClient) -> dict[str, str]:
    email, password = "ops@provider.example", "provider-password-123"
    async with db.unit_of_work(bypass_rls=True) as uow:
        await auth_service.create_provider_admin(uow, email, password)
    response = await client.post(
        "/api/v1/provider/auth/login", json={"email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def start(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/onboarding/start", headers=headers, json=body)
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()
    return data


async def step(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    onboarding_id: str,
    name: str,
    body: dict[str, Any] | None = None,
    *,
    expect: int = 200,
    prefix: str = "/api/v1",
) -> dict[str, Any]:
    response = await client.post(
        f"{prefix}/onboarding/{onboarding_id}/{name}", headers=headers, json=body
    )
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data
