"""Every query of the approvals context. Spending a token is one conditional UPDATE, so of
two actions presenting the same token exactly one gets the row back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from servio.kit.repository import TenantRepository
from servio.models import Approval


class ApprovalRepository(TenantRepository[Approval]):
    model = Approval
    not_found_label = "approval"

    async def spend(
        self,
        *,
        token_hash: str,
        outlet_id: str,
        action: str,
        subject_id: str,
        now: datetime,
    ) -> Approval | None:
        """Mark the live, unused approval for `action` at `outlet_id` used (by
        `subject_id`); None when there is no such approval (unknown, expired, used, other
        action or outlet)."""
        stmt = (
            update(Approval)
            .where(
                self.scope(),
                Approval.token_hash == token_hash,
                Approval.outlet_id == outlet_id,
                Approval.action == action,
                Approval.used_at.is_(None),
                Approval.expires_at > now,
            )
            .values(used_at=now, used_for=subject_id)
            .returning(Approval)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt, execution_options={"populate_existing": True})
        return result.scalar_one_or_none()
