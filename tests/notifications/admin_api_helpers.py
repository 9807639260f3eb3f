"""Shared pieces of the notifications admin API tests: two tenants with owners, an owner
with a PIN (who may approve secret rotations), and readers of audit entries."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import select

from servio.config import Settings
from servio.kit.db import Database
from servio.models import AuditLog
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.outlet import OwnedOutlet, make_owned_outlet

OWNER_PIN = "2580"


@dataclass
class Tenants:
    ours: OwnedOutlet
    theirs: OwnedOutlet
    pin_owner: dict[str, str]  # an owner with OWNER_PIN at our outlet


async def two_tenants(db: Database, settings: Settings) -> Tenants:
    ours = await make_owned_outlet(db, "Spice Route")
    theirs = await make_owned_outlet(db, "Other Place")
    owner = await make_staff(
        db, ours.tenant, ours.outlet, roles=["owner"], pin=OWNER_PIN, settings=settings
    )
    headers = await staff_headers(db, owner, outlet_id=ours.outlet.id, settings=settings)
    return Tenants(ours, theirs, headers)


async def audit_entries(db: Database, tenant_id: str, action: str | None = None) -> list[AuditLog]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(AuditLog).where(AuditLog.tenant_id == tenant_id).order_by(AuditLog.at)
        if action is not None:
            stmt = stmt.where(AuditLog.action == action)
        return list((await uow.session.execute(stmt)).scalars())


async def create_endpoint(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, name: str = "Receiver"
) -> dict[str, object]:
    reply = await client.post(
        "/api/v1/webhooks/endpoints", json={"name": name, "url": url}, headers=headers
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, object] = reply.json()
    return body
