from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class ReceiptCode(IdMixin, TenantMixin, Base):
    """A one-time code sent to a phone or e-mail before its receipts may be listed
    (GUEST-07). Only keyed hashes of the contact and the code are stored."""

    __tablename__ = "receipt_codes"
    __table_args__ = (Index("ix_receipt_codes_contact", "outlet_id", "contact_hash"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))  # phone | email
    contact_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
