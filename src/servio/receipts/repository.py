"""Every query of guest receipts.

`find_outlet` runs with row-level security bypassed: the guest names an outlet and has no
tenant until it is found; the service narrows the transaction to that tenant before
reading anything else. Code attempts and verification are single conditional UPDATEs, so
concurrent guesses can never spend more than the allowed attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.repository import TenantRepository
from servio.models.invoice import Invoice
from servio.models.outlet import Outlet
from servio.models.receipt_code import ReceiptCode


@dataclass(frozen=True)
class ReceiptOutlet:
    id: str
    tenant_id: str
    name: str
    status: str


async def find_outlet(session: AsyncSession, outlet_id: str) -> ReceiptOutlet | None:
    """The outlet across tenants (row-level security must be bypassed)."""
    stmt = select(Outlet.id, Outlet.tenant_id, Outlet.name, Outlet.status).where(
        Outlet.id == outlet_id
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else ReceiptOutlet(*row)


class ReceiptCodeRepository(TenantRepository[ReceiptCode]):
    model = ReceiptCode
    not_found_label = "receipt code"

    async def latest(self, outlet_id: str, contact_hash: str) -> ReceiptCode | None:
        """The newest code sent to the contact at the outlet (older ones are dead)."""
        stmt = (
            self.select()
            .where(ReceiptCode.outlet_id == outlet_id, ReceiptCode.contact_hash == contact_hash)
            .order_by(ReceiptCode.created_at.desc(), ReceiptCode.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def count_attempt(self, code_id: str, max_attempts: int) -> int | None:
        """Spend one wrong attempt; the attempts now used, or None when none were left."""
        stmt = (
            update(ReceiptCode)
            .where(
                self.scope(),
                ReceiptCode.id == code_id,
                ReceiptCode.attempts < max_attempts,
            )
            .values(attempts=ReceiptCode.attempts + 1)
            .returning(ReceiptCode.attempts)
            .execution_options(synchronize_session=False)
        )
        attempts: int | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return attempts

    async def mark_verified(
        self, code_id: str, *, now: datetime, until: datetime, max_attempts: int
    ) -> bool:
        """Verify a live, unlocked, not yet verified code; it then works until `until`."""
        stmt = (
            update(ReceiptCode)
            .where(
                self.scope(),
                ReceiptCode.id == code_id,
                ReceiptCode.verified_at.is_(None),
                ReceiptCode.attempts < max_attempts,
                ReceiptCode.expires_at > now,
            )
            .values(verified_at=now, expires_at=until)
            .returning(ReceiptCode.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None


class ReceiptInvoiceRepository(TenantRepository[Invoice]):
    model = Invoice
    sort_column = "issued_at"
    not_found_label = "invoice"

    def _for_contact(
        self, outlet_id: str, contact_hash: str, since: datetime
    ) -> Select[tuple[Invoice]]:
        return self.select().where(
            Invoice.outlet_id == outlet_id,
            Invoice.contact_hash == contact_hash,
            Invoice.kind == "invoice",
            Invoice.issued_at >= since,
        )

    async def any_for_contact(self, outlet_id: str, contact_hash: str, since: datetime) -> bool:
        stmt = self._for_contact(outlet_id, contact_hash, since).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def latest_for_contact(
        self, outlet_id: str, contact_hash: str, since: datetime, limit: int
    ) -> Sequence[Invoice]:
        stmt = (
            self._for_contact(outlet_id, contact_hash, since)
            .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()
