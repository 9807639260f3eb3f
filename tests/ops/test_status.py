"""`/status.json` and the provider's override (PLAT-07)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from servio.auth import service as auth_service
from servio.auth.tokens import issue_provider_token
from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import AuditLog
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant
from tests.ops.conftest import MakeClient


async def _provider_headers(db: Database, settings: Settings) -> dict[str, str]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        admin = await auth_service.create_provider_admin(
            uow, f"ops-{new_id().lower()}@provider.example", "provider-password-123"
        )
    token = issue_provider_token(settings, admin_id=admin.id, ttl=timedelta(minutes=15))
    return {"Authorization": f"Bearer {token.token}"}


async def test_default_status_is_operational(client: httpx.AsyncClient) -> None:
    response = await client.get("/status.json")
    assert response.status_code == 200
    assert response.json() == {
        "status": "operational",
        "message": "",
        "overridden": False,
        "updated_at": None,
    }


@pytest.mark.backends
async def test_provider_override_is_shown_then_cleared(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    headers = await _provider_headers(db, settings)
    set_response = await client.post(
        "/api/v1/provider/status",
        headers=headers,
        json={"status": "degraded", "message": "Card payments are slow."},
    )
    assert set_response.status_code == 200, set_response.text
    shown = (await client.get("/status.json")).json()
    assert shown == {
        "status": "degraded",
        "message": "Card payments are slow.",
        "overridden": True,
        "updated_at": "2026-11-22T07:30:00Z",
    }

    clock.advance(minutes=10)
    again = await client.post(
        "/api/v1/provider/status",
        headers=headers,
        json={"status": "major_outage", "message": "Down."},
    )
    assert again.json()["status"] == "major_outage"
    assert (await client.get("/status.json")).json()["updated_at"] == "2026-11-22T07:40:00Z"

    cleared = await client.delete("/api/v1/provider/status", headers=headers)
    assert cleared.status_code == 200
    assert (await client.get("/status.json")).json()["status"] == "operational"
    assert (await client.get("/status.json")).json()["overridden"] is False

    async with db.unit_of_work(bypass_rls=True) as uow:
        actions = (
            (await uow.session.execute(select(AuditLog.action).order_by(AuditLog.at)))
            .scalars()
            .all()
        )
    assert [a for a in actions if a.startswith("system_status.")] == [
        "system_status.override",
        "system_status.override",
        "system_status.clear_override",
    ]


async def test_status_shows_platform_maintenance_unless_overridden(
    settings: Settings,
    db: Database,
    make_client: MakeClient,
) -> None:
    client = await make_client(settings.model_copy(update={"maintenance": True}))
    assert (await client.get("/status.json")).json()["status"] == "maintenance"
    headers = await _provider_headers(db, settings)
    # The provider API stays reachable during maintenance.
    response = await client.post(
        "/api/v1/provider/status",
        headers=headers,
        json={"status": "partial_outage", "message": "Back at 10:00"},
    )
    assert response.status_code == 200, response.text
    assert (await client.get("/status.json")).json()["status"] == "partial_outage"


async def test_only_providers_may_override(client: httpx.AsyncClient, db: Database) -> None:
    anonymous = await client.post(
        "/api/v1/provider/status", json={"status": "degraded", "message": ""}
    )
    assert anonymous.status_code == 401
    problem(anonymous)
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    as_owner = await client.post(
        "/api/v1/provider/status",
        headers=await staff_headers(db, owner),
        json={"status": "degraded", "message": ""},
    )
    assert as_owner.status_code in (401, 403)
    assert (await client.get("/status.json")).json()["status"] == "operational"


async def test_override_rejects_unknown_status(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    response = await client.post(
        "/api/v1/provider/status",
        headers=await _provider_headers(db, settings),
        json={"status": "on_fire", "message": ""},
    )
    assert response.status_code == 422
    assert problem(response)["code"] == "VALIDATION_ERROR"
