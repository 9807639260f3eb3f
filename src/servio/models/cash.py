from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class CashDrawer(IdMixin, TenantMixin, TimestampMixin, Base):
    """A physical cash drawer at an outlet ("Front till")."""

    __tablename__ = "cash_drawers"
    __table_args__ = (UniqueConstraint("outlet_id", "name", name="uq_cash_drawers_name"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class CashSession(IdMixin, TenantMixin, TimestampMixin, Base):
    """A shift on one drawer (PAY-04): open with a float, closed with the counted amount.
    At most one open session per drawer — a partial unique index, not a check in code.

    expected = opening_float + cash sales - cash refunds + cash in - cash out, frozen with
    `counted` and `variance = counted - expected` at close. state: open → closed."""

    __tablename__ = "cash_sessions"
    __table_args__ = (
        Index(
            "uq_cash_sessions_one_open",
            "drawer_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        Index("ix_cash_sessions_outlet_opened", "outlet_id", "opened_at"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    drawer_id: Mapped[str] = mapped_column(ForeignKey("cash_drawers.id"))
    state: Mapped[str] = mapped_column(String(8), default="open")
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    opening_float: Mapped[int] = mapped_column(default=0)
    opened_by: Mapped[str | None] = mapped_column(String(26), default=None)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(26), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    counted: Mapped[int | None] = mapped_column(default=None)
    expected: Mapped[int | None] = mapped_column(default=None)
    variance: Mapped[int | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(default=1)


class CashMovement(IdMixin, TenantMixin, Base):
    """Money into or out of a drawer session. type: sale | refund | cash_in | cash_out |
    no_sale (drawer opened without money, amount 0, approved by PIN). `amount` is positive;
    the type says which way it goes."""

    __tablename__ = "cash_movements"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("cash_sessions.id", ondelete="CASCADE"), index=True
    )
    outlet_id: Mapped[str] = mapped_column(String(26))
    type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    payment_id: Mapped[str | None] = mapped_column(String(26), default=None)
    refund_id: Mapped[str | None] = mapped_column(String(26), default=None)
    staff_id: Mapped[str | None] = mapped_column(String(26), default=None)
    approval_id: Mapped[str | None] = mapped_column(String(26), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
