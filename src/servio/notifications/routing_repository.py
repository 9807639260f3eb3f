"""Queries of the event fan-out: which alert rules an event matches."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select

from servio.kit.db import UnitOfWork
from servio.models import AlertRule

ANY_EVENT = "*"


async def matching_alert_rules(
    uow: UnitOfWork, *, tenant_id: str, event: str, outlet_id: str | None
) -> Sequence[AlertRule]:
    """Enabled, live rules of the tenant for `event` (or every event) whose outlet is the
    event's outlet or any outlet; oldest first so the fan-out order is stable."""
    outlet_match: ColumnElement[bool] = AlertRule.outlet_id.is_(None)
    if outlet_id is not None:
        outlet_match = or_(outlet_match, AlertRule.outlet_id == outlet_id)
    rows = await uow.session.execute(
        select(AlertRule)
        .where(
            AlertRule.tenant_id == tenant_id,
            AlertRule.event.in_((event, ANY_EVENT)),
            AlertRule.enabled.is_(True),
            AlertRule.deleted_at.is_(None),
            outlet_match,
        )
        .order_by(AlertRule.created_at, AlertRule.id)
    )
    return rows.scalars().all()
