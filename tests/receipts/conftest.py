"""Two outlets of one tenant with issued invoices carrying guests' contact hashes, and
helpers for the guest receipts API and its outbox deliveries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import Invoice, OutboxMessage, Outlet, Tenant
from servio.notifications.channels import ChannelMessage, DeliveryResult
from servio.receipts.contact import contact_key
from tests.conftest import TEST_SECRET
from tests.fixtures.factories import make_tenant

PHONE = "+91 98765 43210"
EMAIL = "Ravi@Example.com"


@dataclass
class Receipts:
    tenant: Tenant
    outlet: Outlet
    other_outlet: Outlet


async def add_outlet(db: Database, tenant: Tenant, name: str) -> Outlet:
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        outlet = Outlet(tenant_id=tenant.id, name=name, business_hours={})
        uow.session.add(outlet)
        await uow.session.flush()
    return outlet


async def make_invoice(
    db: Database,
    outlet: Outlet,
    *,
    contact: str | None,
    number: str,
    issued_at: datetime | None = None,
    total: int = 472_50,
    kind: str = "invoice",
) -> Invoice:
    hashed, hint = contact_key(TEST_SECRET, contact) if contact else (None, "")
    async with db.unit_of_work(tenant_id=outlet.tenant_id) as uow:
        invoice = Invoice(
            id=new_id(),
            tenant_id=outlet.tenant_id,
            outlet_id=outlet.id,
            kind=kind,
            number=number,
            currency="INR",
            subtotal=450_00,
            tax_total=22_50,
            total=total,
            lines=[
                {
                    "ref": "1",
                    "name": "Paneer tikka",
                    "qty": 2,
                    "unit_price": 150_00,
                    "total": 315_00,
                },
                {
                    "ref": "2",
                    "name": "Sweet lassi",
                    "qty": 1,
                    "unit_price": 150_00,
                    "total": 157_50,
                },
            ],
            seller={"name": outlet.name, "gstin": "27ABCDE1234F1Z5"},
            contact_hash=hashed,
            contact_hint=hint,
            issued_at=issued_at or utcnow(),
            status="paid",
            paid_amount=total,
        )
        uow.session.add(invoice)
    return invoice


@pytest.fixture
async def receipts(db: Database) -> Receipts:
    tenant, outlet = await make_tenant(db, name="Spice Route")
    other = await add_outlet(db, tenant, "Spice Route Airport")
    return Receipts(tenant, outlet, other)


class RecordingChannel:
    name = "sms-test"

    def __init__(self) -> None:
        self.sent: list[ChannelMessage] = []

    async def send(self, message: ChannelMessage) -> DeliveryResult:
        self.sent.append(message)
        return DeliveryResult.delivered("recorded")


async def outbox_rows(db: Database, topic: str) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(
            select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id)
        )
        return list(rows.scalars().all())


CODE = re.compile(r"\b(\d{6})\b")


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found, text
    return found.group(1)


def receipts_query(outlet_id: str, code: str | None = None, **contact: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"outlet_id": outlet_id, **contact}
    if code is not None:
        params["code"] = code
    return params
