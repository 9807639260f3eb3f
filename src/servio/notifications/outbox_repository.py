"""Every query of the outbox admin API, scoped to the caller's tenant. State changes are
conditional UPDATEs (`… WHERE id = :id AND tenant_id = :t AND status IN (…)`): the worker
may be moving the same row, so the database decides who wins, never a prior read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, update

from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.repository import TenantRepository
from servio.models import OutboxMessage


class OutboxRepository(TenantRepository[OutboxMessage]):
    model = OutboxMessage
    not_found_label = "outbox message"

    async def list_messages(
        self,
        *,
        statuses: Sequence[str] = (),
        topic: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[list[OutboxMessage], str | None]:
        filters: list[ColumnElement[bool]] = []
        if statuses:
            filters.append(OutboxMessage.status.in_(list(statuses)))
        if topic:
            filters.append(OutboxMessage.topic == topic)
        return await self.list_page(*filters, cursor=cursor, limit=limit)

    async def transition(
        self, message_id: str, *, from_statuses: Sequence[str], values: dict[str, Any]
    ) -> OutboxMessage | None:
        """Apply `values` when the row is in one of `from_statuses`; None otherwise."""
        stmt = (
            update(OutboxMessage)
            .where(
                self.scope(),
                OutboxMessage.id == message_id,
                OutboxMessage.status.in_(list(from_statuses)),
            )
            .values(**values)
            .returning(OutboxMessage)
            .execution_options(populate_existing=True)
        )
        row: OutboxMessage | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row
