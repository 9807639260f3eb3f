"""A bistro with a menu (tests/guest's: a required spice choice, extras, an out-of-stock and
a deleted dish), its owner, and helpers that drive the guest journey over HTTP the way a
phone does: scan the table's QR, join with a nickname, edit the cart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from servio.config import Settings
from servio.floor.qr import issue_qr_token
from servio.kit.clock import utcnow
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import (
    Modifier,
    Order,
    OrderLine,
    Outlet,
    ServicePoint,
    StaffUser,
    TableSession,
)
from tests.fixtures.auth import make_staff, staff_headers
from tests.guest.conftest import Bistro, build_bistro

EVERY_DAY_ALL_DAY = {
    d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


JSON = {"Accept": "application/json"}


@dataclass
class Venue:
    bistro: Bistro
    owner: dict[str, str]  # the owner's Bearer headers, scoped to the outlet
    owner_user: StaffUser
    modifiers: dict[str, str] = field(default_factory=dict)  # name → id

    async def relogin(self, db: Database, settings: Settings) -> dict[str, str]:
        """Fresh owner headers (after moving the clock past the access token's life)."""
        self.owner = await staff_headers(
            db, self.owner_user, outlet_id=self.outlet_id, settings=settings
        )
        return self.owner

    @property
    def tenant_id(self) -> str:
        return self.bistro.tenant.id

    @property
    def outlet_id(self) -> str:
        return self.bistro.outlet.id

    @property
    def table_id(self) -> str:
        return self.bistro.table.id

    @property
    def token(self) -> str:
        return self.bistro.token

    @property
    def items(self) -> dict[str, str]:
        return self.bistro.items

    def paneer(self, qty: int = 1, spice: str = "Mild", **extra: Any) -> dict[str, Any]:
        """A valid line: Paneer Tikka needs exactly one spice level."""
        return {
            "menu_item_id": self.items["paneer"],
            "qty": qty,
            "modifiers": [self.modifiers[spice]],
            **extra,
        }

    def lassi(self, qty: int = 1, **extra: Any) -> dict[str, Any]:
        return {"menu_item_id": self.items["lassi"], "qty": qty, **extra}


async def build_venue(db: Database, settings: Settings, *, name: str = "Spice Route") -> Venue:
    bistro = await build_bistro(db, settings, name=name)
    owner = await make_staff(db, bistro.tenant, bistro.outlet, roles=["owner"], settings=settings)
    headers = await staff_headers(db, owner, outlet_id=bistro.outlet.id, settings=settings)
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        rows = await uow.session.execute(
            select(Modifier.name, Modifier.id).where(Modifier.tenant_id == bistro.tenant.id)
        )
        modifiers = dict(rows.tuples().all())
    return Venue(bistro=bistro, owner=headers, owner_user=owner, modifiers=modifiers)


@pytest.fixture
async def venue(db: Database, settings: Settings) -> Venue:
    return await build_venue(db, settings)


@pytest.fixture
async def rival(db: Database, settings: Settings) -> Venue:
    """Another tenant with the same menu: nothing of it may be reachable from `venue`."""
    return await build_venue(db, settings, name="Rival Diner")


# --- the guest journey over HTTP --------------------------------------------------------------


async def scan(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(f"/t/{token}", headers=JSON)


async def scanned(client: httpx.AsyncClient, token: str, status: int = 201) -> dict[str, Any]:
    response = await scan(client, token)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def join(
    client: httpx.AsyncClient, guest_token: str, session_id: str, nickname: str
) -> httpx.Response:
    return await client.post(
        "/member",
        json={"session_id": session_id, "nickname": nickname},
        headers=bearer(guest_token),
    )


async def joined(
    client: httpx.AsyncClient, guest_token: str, session_id: str, nickname: str
) -> dict[str, Any]:
    response = await join(client, guest_token, session_id, nickname)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def put_cart(
    client: httpx.AsyncClient, member_token: str, session_id: str, items: list[dict[str, Any]]
) -> httpx.Response:
    return await client.put(
        f"/session/{session_id}/cart", json={"items": items}, headers=bearer(member_token)
    )


@dataclass
class Seated:
    """A scanned table with one joined member."""

    session_id: str
    guest_token: str
    member_id: str
    member_token: str


async def seat(client: httpx.AsyncClient, venue: Venue, nickname: str = "Asha") -> Seated:
    body = await scanned(client, venue.token)
    member = await joined(client, body["guest_token"], body["session_id"], nickname)
    return Seated(
        body["session_id"], body["guest_token"], member["member_id"], member["member_token"]
    )


# --- rows written directly (other contexts own how they are made) -----------------------------


async def add_table(db: Database, settings: Settings, venue: Venue, label: str) -> tuple[str, str]:
    """Another table of the venue: (point id, QR token)."""
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        point = ServicePoint(
            tenant_id=venue.tenant_id, outlet_id=venue.outlet_id, kind="table", label=label
        )
        uow.session.add(point)
        await uow.session.flush()
        return point.id, issue_qr_token(settings, point)


async def add_order(
    db: Database,
    venue: Venue,
    session_id: str,
    *,
    subtotal: int = 28000,
    ticket_no: str | None = "K-1",
    fired: str = "acked",
    status: str = "in_queue",
    at: datetime | None = None,
    member_id: str | None = None,
) -> str:
    """An order of the session as the ordering context stores it."""
    when = at or utcnow()
    order_id = new_id()
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        uow.session.add(
            Order(
                id=order_id,
                tenant_id=venue.tenant_id,
                outlet_id=venue.outlet_id,
                session_id=session_id,
                service_point_id=venue.table_id,
                status=status,
                fired=fired,
                ticket_no=ticket_no,
                subtotal=subtotal,
                item_count=1,
                placed_by_member_id=member_id,
                created_at=when,
                updated_at=when,
            )
        )
        await uow.session.flush()
        uow.session.add(
            OrderLine(
                tenant_id=venue.tenant_id,
                order_id=order_id,
                member_id=member_id,
                menu_item_id=venue.items["paneer"],
                name="Paneer Tikka",
                qty=1,
                base_price=subtotal,
                unit_price=subtotal,
                line_total=subtotal,
                modifiers=[{"id": "m", "name": "Mild", "price_delta": 0, "qty": 1}],
                created_at=when,
            )
        )
        await uow.session.execute(
            update(TableSession)
            .where(TableSession.id == session_id, TableSession.first_order_at.is_(None))
            .values(first_order_at=when)
        )
    return order_id


async def set_session(db: Database, venue: Venue, session_id: str, **values: Any) -> None:
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        await uow.session.execute(
            update(TableSession).where(TableSession.id == session_id).values(**values)
        )


async def set_outlet(db: Database, venue: Venue, **values: Any) -> None:
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        await uow.session.execute(
            update(Outlet).where(Outlet.id == venue.outlet_id).values(**values)
        )


async def session_row(db: Database, venue: Venue, session_id: str) -> TableSession:
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        row = await uow.session.get(TableSession, session_id)
        assert row is not None
        return row
