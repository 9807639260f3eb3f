from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin


class NumberSequence(IdMixin, TenantMixin, Base):
    """A gap-free counter per (tenant, scope, name, period): kitchen ticket numbers per
    outlet and business day, invoice numbers per outlet series. Incremented only by one
    atomic upsert (`kit.sequences.next_number`), never read-then-written."""

    __tablename__ = "number_sequences"
    __table_args__ = (UniqueConstraint("tenant_id", "scope", "name", "period"),)

    scope: Mapped[str] = mapped_column(String(26))  # usually an outlet id
    name: Mapped[str] = mapped_column(String(32))  # "ticket", "invoice", …
    period: Mapped[str] = mapped_column(String(16), default="")  # "2026-11-22", "2026-11", ""
    value: Mapped[int] = mapped_column(default=0)
