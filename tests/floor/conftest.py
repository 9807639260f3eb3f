"""Two tenants, each with an outlet and an owner, plus helpers for the floor API tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.outlet import OwnedOutlet as Floor
from tests.fixtures.outlet import owned_outlet_fixture

__all__ = ["Floor", "create"]


floor = owned_outlet_fixture("floor", "Spice Route")


# Another tenant: none of its points may be reachable from `floor`.
rival = owned_outlet_fixture("rival", "Rival Diner")


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], plural: str = "tables"
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{plural}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
