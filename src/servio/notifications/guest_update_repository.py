"""Every query of guest WhatsApp order updates (GUEST-11): a member's opt-in, the opted-in
members of a table session, and the facts a message names (ticket number, outlet)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servio.models.order import Order
from servio.models.outlet import Outlet
from servio.models.session_member import SessionMember


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    outlet_id: str
    session_id: str | None
    ticket_no: str | None
    outlet_name: str
    outlet_locale: str


@dataclass(frozen=True)
class OptedInMember:
    member_id: str
    phone: str


class GuestUpdateRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def order_facts(self, order_id: str) -> OrderFacts | None:
        row = (
            await self.session.execute(
                select(
                    Order.id,
                    Order.outlet_id,
                    Order.session_id,
                    Order.ticket_no,
                    Outlet.name,
                    Outlet.locale,
                )
                .join(Outlet, Outlet.id == Order.outlet_id)
                .where(Order.tenant_id == self.tenant_id, Order.id == order_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return OrderFacts(
            order_id=row[0],
            outlet_id=row[1],
            session_id=row[2],
            ticket_no=row[3],
            outlet_name=row[4],
            outlet_locale=row[5],
        )

    async def opted_in_members(self, session_id: str) -> list[OptedInMember]:
        rows = await self.session.execute(
            select(SessionMember.id, SessionMember.notify_phone)
            .where(
                SessionMember.tenant_id == self.tenant_id,
                SessionMember.session_id == session_id,
                SessionMember.notify_phone.is_not(None),
            )
            .order_by(SessionMember.id)
        )
        return [OptedInMember(member_id, phone) for member_id, phone in rows.all() if phone]

    async def member_phone(self, session_id: str, member_id: str) -> str | None:
        phone: str | None = (
            await self.session.execute(
                select(SessionMember.notify_phone).where(
                    SessionMember.tenant_id == self.tenant_id,
                    SessionMember.session_id == session_id,
                    SessionMember.id == member_id,
                )
            )
        ).scalar_one_or_none()
        return phone

    async def set_member_phone(
        self, session_id: str, member_id: str, phone: str | None, at: datetime | None
    ) -> bool:
        """Store (or clear, with None) the member's opt-in. False when no such member."""
        result = await self.session.execute(
            update(SessionMember)
            .where(
                SessionMember.tenant_id == self.tenant_id,
                SessionMember.session_id == session_id,
                SessionMember.id == member_id,
            )
            .values(notify_phone=phone, notify_opt_in_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
