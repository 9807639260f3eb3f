"""Two tenants with an owner each, a provider operator, and small helpers for the wizard."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from servio.kit.db import Database
from tests.fixtures.auth import provider_login_headers
from tests.fixtures.outlet import OwnedOutlet as World
from tests.fixtures.outlet import owned_outlet_fixture

__all__ = ["HOURS", "PAYMENTS", "PROFILE", "TAX", "VALID_GSTIN", "World", "start", "step"]

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


world = owned_outlet_fixture("world", "Spice Route")


other = owned_outlet_fixture("other", "Rival Diner")


@pytest.fixture
async def provider_headers(db: Database, client: httpx.AsyncClient) -> dict[str, str]:
    return await provider_login_headers(db, client)


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
