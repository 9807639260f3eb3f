"""Every query of the webhook endpoints registry and its delivery log, scoped to the
caller's tenant. Edits and rotations are single `UPDATE … WHERE version = :expected
RETURNING` statements, so two admins cannot both rotate from the same version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update

from servio.kit.clock import utcnow
from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.repository import TenantRepository
from servio.models import DeliveryAttempt, WebhookEndpoint


class WebhookEndpointRepository(TenantRepository[WebhookEndpoint]):
    model = WebhookEndpoint
    not_found_label = "webhook endpoint"

    async def get_live(
        self, endpoint_id: str, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        stmt = self.select().where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.deleted_at.is_(None)
        )
        if for_update:
            stmt = stmt.with_for_update()
        row: WebhookEndpoint | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def list_live(
        self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[WebhookEndpoint], str | None]:
        return await self.list_page(
            WebhookEndpoint.deleted_at.is_(None), cursor=cursor, limit=limit
        )

    async def names_and_urls(self, endpoint_ids: Sequence[str]) -> dict[str, str]:
        """endpoint id → URL, deleted ones included (old rules still point at them)."""
        if not endpoint_ids:
            return {}
        stmt = select(WebhookEndpoint.id, WebhookEndpoint.url).where(
            self.scope(), WebhookEndpoint.id.in_(list(set(endpoint_ids)))
        )
        return dict((await self.session.execute(stmt)).tuples().all())

    async def update_if_version(
        self, endpoint_id: str, expected_version: int, values: dict[str, Any]
    ) -> WebhookEndpoint | None:
        stmt = (
            update(WebhookEndpoint)
            .where(
                self.scope(),
                WebhookEndpoint.id == endpoint_id,
                WebhookEndpoint.version == expected_version,
                WebhookEndpoint.deleted_at.is_(None),
            )
            .values(**values, version=WebhookEndpoint.version + 1, updated_at=utcnow())
            .returning(WebhookEndpoint)
            .execution_options(populate_existing=True)
        )
        row: WebhookEndpoint | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


class DeliveryAttemptRepository(TenantRepository[DeliveryAttempt]):
    model = DeliveryAttempt
    sort_column = "started_at"

    async def for_endpoint(
        self, endpoint_id: str, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[DeliveryAttempt], str | None]:
        return await self.list_page(
            DeliveryAttempt.webhook_endpoint_id == endpoint_id, cursor=cursor, limit=limit
        )

    async def for_outbox(self, outbox_id: str) -> list[DeliveryAttempt]:
        stmt = (
            self.select()
            .where(DeliveryAttempt.outbox_id == outbox_id)
            .order_by(DeliveryAttempt.started_at, DeliveryAttempt.attempt, DeliveryAttempt.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def latest_per_endpoint(self, endpoint_ids: Sequence[str]) -> dict[str, DeliveryAttempt]:
        """endpoint id → its most recent attempt (of any kind)."""
        if not endpoint_ids:
            return {}
        latest = (
            select(
                DeliveryAttempt.webhook_endpoint_id.label("endpoint_id"),
                func.max(DeliveryAttempt.started_at).label("at"),
            )
            .where(self.scope(), DeliveryAttempt.webhook_endpoint_id.in_(list(set(endpoint_ids))))
            .group_by(DeliveryAttempt.webhook_endpoint_id)
            .subquery()
        )
        stmt = self.select().join(
            latest,
            (DeliveryAttempt.webhook_endpoint_id == latest.c.endpoint_id)
            & (DeliveryAttempt.started_at == latest.c.at),
        )
        found: dict[str, DeliveryAttempt] = {}
        for row in (await self.session.execute(stmt)).scalars():
            if row.webhook_endpoint_id is not None:
                found[row.webhook_endpoint_id] = row
        return found
