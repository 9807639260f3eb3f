"""Every query over guest feedback (and the few facts about sessions and orders it needs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select

from servio.kit.repository import TenantRepository
from servio.models import Order, Outlet
from servio.models.guest_feedback import GuestFeedback


class FeedbackRepository(TenantRepository[GuestFeedback]):
    model = GuestFeedback
    not_found_label = "feedback"

    async def nps_given(self, session_id: str, member_id: str) -> bool:
        stmt = select(GuestFeedback.id).where(
            self.scope(),
            GuestFeedback.session_id == session_id,
            GuestFeedback.member_id == member_id,
            GuestFeedback.kind == "nps",
        )
        return (await self.session.execute(stmt.limit(1))).first() is not None

    async def order_in_session(self, order_id: str, session_id: str) -> bool:
        stmt = select(Order.id).where(
            Order.tenant_id == self.tenant_id, Order.id == order_id, Order.session_id == session_id
        )
        return (await self.session.execute(stmt)).first() is not None

    async def outlet_timezone(self, outlet_id: str) -> str | None:
        stmt = select(Outlet.timezone).where(
            Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def _in_range(self, outlet_id: str, start: datetime, end: datetime) -> ColumnElement[bool]:
        return and_(
            self.scope(),
            GuestFeedback.outlet_id == outlet_id,
            GuestFeedback.created_at >= start,
            GuestFeedback.created_at < end,
        )

    async def thumbs_counts(
        self, outlet_id: str, start: datetime, end: datetime
    ) -> dict[bool, int]:
        stmt = (
            select(GuestFeedback.thumbs_up, func.count())
            .where(self._in_range(outlet_id, start, end), GuestFeedback.kind == "thumbs")
            .group_by(GuestFeedback.thumbs_up)
        )
        rows = (await self.session.execute(stmt)).tuples()
        return {bool(up): int(n) for up, n in rows if up is not None}

    async def nps_counts(self, outlet_id: str, start: datetime, end: datetime) -> dict[int, int]:
        stmt = (
            select(GuestFeedback.score, func.count())
            .where(self._in_range(outlet_id, start, end), GuestFeedback.kind == "nps")
            .group_by(GuestFeedback.score)
        )
        rows = (await self.session.execute(stmt)).tuples()
        return {int(score): int(n) for score, n in rows if score is not None}

    async def recent_comments(
        self, outlet_id: str, start: datetime, end: datetime, limit: int
    ) -> Sequence[GuestFeedback]:
        stmt = (
            self.select()
            .where(self._in_range(outlet_id, start, end), GuestFeedback.comment != "")
            .order_by(GuestFeedback.created_at.desc(), GuestFeedback.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()
